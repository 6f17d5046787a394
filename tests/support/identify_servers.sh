#!/bin/bash
# Starts real Debian servers for service identification, on test-written configs, in the
# current network namespace (the caller runs this with `ip netns exec TARGET_NS`), each on
# its usual port and on an unexpected one, all bound to ADDR only:
#   nginx http 80, 8081; nginx tls 443, 8444 (a test-made certificate: DIR/cert.pem);
#   sshd 22, 2222; vsftpd 21, 2121 (AUTH TLS); exim4 smtp 25, 2525 (STARTTLS);
#   dovecot imap 143, 1143 and pop3 110, 1110 (STARTTLS/STLS); redis 6379, 7379;
#   mariadb 3306, 3307 (extra-port); postgresql 5432, 5433; memcached 11211, 11311.
# Writes DIR/pids (one PID a line: the caller ends them by PID) and DIR/ports
# ("PORT SERVICE" a line). Exits 0 once every port accepts connections, 1 (naming the
# server, its log in DIR) when one does not within 60 s.
# Usage: identify_servers.sh DIR ADDR
set -u
dir=${1:?usage: identify_servers.sh DIR ADDR}
addr=${2:?usage: identify_servers.sh DIR ADDR}
mkdir -p "$dir"
cd "$dir" || exit 1
: >pids
: >ports
chmod 755 "$dir"
# Unix sockets (dovecot, postgresql, mariadb) need a short path (108 bytes): a directory of
# their own, named in DIR/rundir for the caller to remove.
run=$(mktemp -d /tmp/anyscan-id.XXXXXX) || exit 1
chmod 755 "$run"
echo "$run" >rundir

start() {  # NAME COMMAND...: in the background, its PID kept
  name=$1
  shift
  "$@" >"$dir/$name.log" 2>&1 &
  echo $! >>pids
}

openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 \
  -subj "/CN=identify.anyscan.invalid/O=anyscan test" \
  -addext "subjectAltName=DNS:identify.anyscan.invalid,IP:$addr" 2>/dev/null || exit 1
chmod 644 key.pem cert.pem

# nginx: plain HTTP and TLS, each on two ports.
mkdir -p nginx
cat >nginx.conf <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/nginx;
  proxy_temp_path $dir/nginx;
  fastcgi_temp_path $dir/nginx;
  uwsgi_temp_path $dir/nginx;
  scgi_temp_path $dir/nginx;
  server_tokens on;
  server {
    listen $addr:80;
    listen $addr:8081;
    location / { default_type text/html; return 200 "<html><head><title>anyscan identify test</title></head></html>\n"; }
  }
  server {
    listen $addr:443 ssl;
    listen $addr:8444 ssl;
    ssl_certificate $dir/cert.pem;
    ssl_certificate_key $dir/key.pem;
    location / { default_type text/html; return 200 "<html><head><title>anyscan tls test</title></head></html>\n"; }
  }
}
EOF
start nginx /usr/sbin/nginx -c "$dir/nginx.conf"
echo "80 http" >>ports
echo "8081 http" >>ports
echo "443 tls" >>ports
echo "8444 tls" >>ports

# sshd: its own host key and config; privilege separation needs /run/sshd.
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh_host_key" </dev/null >/dev/null 2>&1
cat >sshd_config <<EOF
Port 22
Port 2222
ListenAddress $addr
HostKey $dir/ssh_host_key
PidFile $dir/sshd.pid
UsePAM no
EOF
start sshd /usr/sbin/sshd -D -e -f "$dir/sshd_config"
echo "22 ssh" >>ports
echo "2222 ssh" >>ports

# vsftpd: two instances (one port each), AUTH TLS with the test certificate.
for port in 21 2121; do
  cat >"vsftpd-$port.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=$addr
listen_port=$port
background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root=/var/run/vsftpd/empty
local_enable=NO
ssl_enable=YES
allow_anon_ssl=YES
rsa_cert_file=$dir/cert.pem
rsa_private_key_file=$dir/key.pem
secure_chroot_dir=/var/run/vsftpd/empty
vsftpd_log_file=$dir/vsftpd-$port.xfer
EOF
  start "vsftpd-$port" /usr/sbin/vsftpd "$dir/vsftpd-$port.conf"
  echo "$port ftp" >>ports
done
mkdir -p /var/run/vsftpd/empty

# exim4: SMTP with STARTTLS, a configuration of its own (root may pass -C).
mkdir -p exim-spool exim-log
chown Debian-exim:Debian-exim exim-spool exim-log
cat >exim.conf <<EOF
primary_hostname = mail.identify.anyscan.invalid
daemon_smtp_ports = 25 : 2525
local_interfaces = $addr
spool_directory = $dir/exim-spool
log_file_path = $dir/exim-log/%slog
keep_environment =
tls_advertise_hosts = *
tls_certificate = $dir/cert.pem
tls_privatekey = $dir/key.pem
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  deny
begin routers
begin transports
EOF
start exim /usr/sbin/exim4 -bdf -C "$dir/exim.conf"
echo "25 smtp" >>ports
echo "2525 smtp" >>ports

# dovecot: IMAP and POP3 with STARTTLS, each on two ports.
mkdir -p "$run/dovecot"
cat >dovecot.conf <<EOF
base_dir = $run/dovecot
state_dir = $run/dovecot
log_path = $dir/dovecot.log
protocols = imap pop3
listen = $addr
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
mail_location = mbox:$dir/mail
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/mail
}
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imap2 {
    address = $addr
    port = 1143
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3b {
    address = $addr
    port = 1110
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF
start dovecot /usr/sbin/dovecot -F -c "$dir/dovecot.conf"
echo "143 imap" >>ports
echo "1143 imap" >>ports
echo "110 pop3" >>ports
echo "1110 pop3" >>ports

# redis: two instances.
for port in 6379 7379; do
  start "redis-$port" /usr/bin/redis-server --bind "$addr" --port "$port" --save "" \
    --appendonly no --dir "$dir" --daemonize no --protected-mode no
  echo "$port redis" >>ports
done

# mariadb: a fresh data directory; port 3306 and the extra port 3307.
mkdir -p mysql-data "$run/mysql"
chown mysql:mysql mysql-data "$run/mysql"
/usr/bin/mariadb-install-db --no-defaults --datadir="$dir/mysql-data" --user=mysql \
  --auth-root-authentication-method=normal --skip-test-db >mariadb-install.log 2>&1 || {
  echo "identify_servers.sh: mariadb-install-db failed (see $dir/mariadb-install.log)" >&2
  exit 1
}
start mariadb /usr/sbin/mariadbd --no-defaults --datadir="$dir/mysql-data" --user=mysql \
  --bind-address="$addr" --port=3306 --extra-port=3307 --skip-grant-tables --socket="$run/mysql/mysql.sock" \
  --pid-file="$dir/mysql-data/mariadb.pid"
echo "3306 mysql" >>ports
echo "3307 mysql" >>ports

# postgresql: one cluster, two servers on copies of it.
pg=/usr/lib/postgresql/15/bin
mkdir -p pg "$run/pg"
chown postgres:postgres pg "$run/pg"
runuser -u postgres -- "$pg/initdb" -D "$dir/pg/5432" -A trust >pg-initdb.log 2>&1 || {
  echo "identify_servers.sh: initdb failed (see $dir/pg-initdb.log)" >&2
  exit 1
}
cp -a "$dir/pg/5432" "$dir/pg/5433"
for port in 5432 5433; do
  start "postgres-$port" runuser -u postgres -- "$pg/postgres" -D "$dir/pg/$port" -p "$port" \
    -h "$addr" -k "$run/pg"
  echo "$port postgres" >>ports
done

# memcached: two instances.
for port in 11211 11311; do
  start "memcached-$port" /usr/bin/memcached -u nobody -l "$addr" -p "$port" -U 0
  echo "$port memcached" >>ports
done

# Ready when every port accepts a connection.
deadline=$(($(date +%s) + 60))
while read -r port service; do
  until (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "identify_servers.sh: $service on $addr:$port did not start (logs in $dir)" >&2
      exit 1
    fi
    sleep 0.2
  done
done <ports
exit 0
