# Sourced by the loopback benchmarks: the configuration of their own nginx.
#
# write_nginx_conf DIR ROOT PORT [EXTRA]: writes DIR/nginx.conf for an nginx in the foreground
# that serves ROOT on 127.0.0.1:PORT with keep-alive and sendfile, logs every request to
# DIR/logs/access.log (the benchmarks count requests there), and keeps its files in DIR. EXTRA is
# more configuration inside the http block (another server, say).
write_nginx_conf() {
  local dir=$1 root=$2 port=$3 extra=${4:-}
  mkdir -p "$dir/logs" "$dir/tmp"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log $dir/logs/access.log;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60;
  types { application/dash+xml mpd; video/mp4 m4s mp4; }
  server {
    listen 127.0.0.1:$port;
    root $root;
  }
$extra
}
CONF
}
