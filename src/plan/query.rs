//! URL query parameters (ISO/IEC 23009-1 Annex I): `UrlQueryInfo` at MPD, Period, AdaptationSet
//! or Representation level adds a query to the segment URLs of its scope. CDNs carry access
//! tokens this way: a manifest fetched as `manifest.mpd?token=…` whose segments need the token.

use url::Url;

use crate::mpd::UrlQueryInfo;

/// The query a Representation's segment URLs get from the descriptors of its levels (MPD,
/// Period, AdaptationSet, Representation), or `None` when they add nothing.
///
/// Each level's final query string is its `@queryTemplate` (absent: `$querypart$`) expanded
/// with its initial query string: the manifest URL's query when `@useMPDUrlQuery` is true,
/// then `@queryString`, joined by `&`. The levels' strings are joined by `&`: those of the
/// 2016 form from the MPD down, then those of the 2014 form from the Representation up.
pub fn segment_query(
    levels: [Option<&UrlQueryInfo>; 4],
    manifest_url: &Url,
) -> Result<Option<String>, String> {
    let mut extended = Vec::new();
    let mut baseline = Vec::new();
    for info in levels.into_iter().flatten() {
        if !applies_to_segments(info) {
            continue;
        }
        let mut initial = Vec::new();
        if info.use_mpd_url_query
            && let Some(q) = manifest_url.query().filter(|q| !q.is_empty())
        {
            initial.push(q);
        }
        if let Some(q) = info.query_string.as_deref().filter(|q| !q.is_empty()) {
            initial.push(q);
        }
        let initial = initial.join("&");
        let template = info.query_template.as_deref().unwrap_or("$querypart$");
        let query = expand(template, &initial)?;
        if query.is_empty() {
            continue;
        }
        if info.extended {
            extended.push(query);
        } else {
            baseline.push(query);
        }
    }
    baseline.reverse();
    extended.extend(baseline);
    Ok((!extended.is_empty()).then(|| extended.join("&")))
}

/// `ExtUrlQueryInfo@includeInRequests` lists the requests it is for (default `segment`).
fn applies_to_segments(info: &UrlQueryInfo) -> bool {
    match &info.include_in_requests {
        Some(kinds) if info.extended => kinds
            .split_whitespace()
            .any(|k| matches!(k, "segment" | "init" | "*")),
        _ => true,
    }
}

/// Expands a query template: `$querypart$` is the initial query string, `$query:NAME$` the
/// value of its parameter NAME (empty when absent), `$$` a dollar sign.
fn expand(template: &str, initial: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('$').ok_or_else(|| {
            format!("UrlQueryInfo@queryTemplate \"{template}\": a '$' without its closing '$'")
        })?;
        let tag = &after[..end];
        rest = &after[end + 1..];
        if tag.is_empty() {
            out.push('$');
        } else if tag == "querypart" {
            out.push_str(initial);
        } else if let Some(name) = tag.strip_prefix("query:") {
            let value = initial
                .split('&')
                .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
                .find(|(n, _)| *n == name)
                .map_or("", |(_, v)| v);
            out.push_str(value);
        } else {
            return Err(format!(
                "UrlQueryInfo@queryTemplate \"{template}\": unknown identifier ${tag}$"
            ));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Adds `query` to `url`'s own query (after a `&` when it has one).
pub fn append(url: &mut Url, query: &str) {
    let combined = match url.query() {
        Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
        _ => query.to_string(),
    };
    url.set_query(Some(&combined));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(template: Option<&str>, use_mpd: bool, string: Option<&str>) -> UrlQueryInfo {
        UrlQueryInfo {
            extended: false,
            query_template: template.map(str::to_string),
            use_mpd_url_query: use_mpd,
            query_string: string.map(str::to_string),
            include_in_requests: None,
        }
    }

    #[test]
    fn final_query_strings() {
        let manifest = Url::parse("https://cdn.example/m.mpd?token=abc&exp=9").expect("url");
        let qp = Some("$querypart$");
        let rows: Vec<(UrlQueryInfo, Option<&str>)> = vec![
            (info(qp, true, None), Some("token=abc&exp=9")),
            (info(qp, true, Some("a=1")), Some("token=abc&exp=9&a=1")),
            (info(qp, false, Some("a=1")), Some("a=1")),
            (info(qp, false, None), None),
            (info(None, true, None), Some("token=abc&exp=9")),
            (info(Some("t=$query:token$"), true, None), Some("t=abc")),
            (info(Some("t=$query:none$&x"), true, None), Some("t=&x")),
            (
                info(Some("p$$=$querypart$"), false, Some("b=2")),
                Some("p$=b=2"),
            ),
            (info(Some("fixed=1"), false, None), Some("fixed=1")),
        ];
        for (i, want) in rows {
            let levels = [None, None, None, Some(&i)];
            assert_eq!(
                segment_query(levels, &manifest).expect("query").as_deref(),
                want,
                "{i:?}"
            );
        }
    }

    #[test]
    fn levels_combine_in_the_order_of_their_form() {
        let manifest = Url::parse("https://cdn.example/m.mpd").expect("url");
        let mpd = info(None, false, Some("m=1"));
        let rep = info(None, false, Some("r=1"));
        let ext_mpd = UrlQueryInfo {
            extended: true,
            ..info(None, false, Some("xm=1"))
        };
        let ext_rep = UrlQueryInfo {
            extended: true,
            ..info(None, false, Some("xr=1"))
        };
        let levels = [Some(&mpd), Some(&ext_mpd), Some(&ext_rep), Some(&rep)];
        assert_eq!(
            segment_query(levels, &manifest).expect("query").as_deref(),
            Some("xm=1&xr=1&r=1&m=1")
        );
        // 2016: not for segment requests.
        let mpd_only = UrlQueryInfo {
            include_in_requests: Some("mpd mpdpatch".into()),
            ..ext_mpd
        };
        assert_eq!(
            segment_query([Some(&mpd_only), None, None, None], &manifest),
            Ok(None)
        );
    }

    #[test]
    fn bad_templates_and_append() {
        let manifest = Url::parse("https://cdn.example/m.mpd").expect("url");
        let bad = info(Some("$token$"), false, None);
        assert_eq!(
            segment_query([None, None, None, Some(&bad)], &manifest),
            Err("UrlQueryInfo@queryTemplate \"$token$\": unknown identifier $token$".into())
        );
        let mut url = Url::parse("https://h/s.m4s?n=1").expect("url");
        append(&mut url, "t=2");
        assert_eq!(url.as_str(), "https://h/s.m4s?n=1&t=2");
        let mut url = Url::parse("https://h/s.m4s").expect("url");
        append(&mut url, "t=2");
        assert_eq!(url.as_str(), "https://h/s.m4s?t=2");
    }
}
