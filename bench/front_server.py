"""nginx with the shipped configuration (deploy/nginx.conf), on this machine.

For the tests, `make bench` and `make load`: the site file as shipped, with only
its "site:" values put to local ones (port, gunicorn's address, the folders,
the host name), inside a main configuration of its own that keeps pid, logs and
temporary files in a work folder, so nothing of the machine's nginx is touched.

    python -m bench.front_server start WORK --port 8014 --upstream 127.0.0.1:8011 \\
        --front-root DIR [--static-root DIR] [--host 127.0.0.1] [--static-file F]
    python -m bench.front_server stop WORK

--static-file also serves that file as /bench/static.html, the plain file the
bench compares the front server's pages with.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE_FILE = ROOT / "deploy" / "nginx.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.path.exists(path)), None
    )


def site_config(*, port, upstream, front_root, static_root, hosts) -> str:
    """deploy/nginx.conf with its site values put to these."""
    text = SITE_FILE.read_text(encoding="utf-8")
    host_lines = "\n    ".join(f"{host} 1;" for host in hosts)
    swaps = [
        ("server 127.0.0.1:8000;", f"server {upstream};"),
        ("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;"),
        ("casehub.example.org 1;", host_lines),
        ("/srv/casehub/front", str(front_root)),
        ("/srv/casehub/static/", f"{static_root}/"),
    ]
    for shipped, local in swaps:
        if shipped not in text:
            raise ValueError(f"deploy/nginx.conf no longer holds {shipped!r}")
        text = text.replace(shipped, local)
    return text


def write_config(work: Path, site: str, *, static_file: Path | None = None) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    (work / "temp").mkdir(exist_ok=True)
    if static_file is not None:
        # The plain file, beside the site's own locations.
        marker = "    location @django {"
        plain = "".join(
            [
                "    location = /bench/static.html {\n",
                f"        alias {static_file};\n",
                "    }\n",
            ]
        )
        site = site.replace(marker, plain + marker, 1)
    (work / "site.conf").write_text(site, encoding="utf-8")
    # Workers of a root master run as nobody, who cannot enter a test's folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = f"""{user}worker_processes auto;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
daemon on;
events {{
    worker_connections 4096;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    # A request carrying X-Front-Probe is logged with where its answer came
    # from ("-": nginx itself, from the copy), for served_from_copy().
    log_format casehub_probe '$http_x_front_probe $upstream_addr';
    access_log {work}/probe.log casehub_probe if=$http_x_front_probe;
    keepalive_requests 100000;
    client_body_temp_path {work}/temp/body;
    proxy_temp_path {work}/temp/proxy;
    fastcgi_temp_path {work}/temp/fastcgi;
    uwsgi_temp_path {work}/temp/uwsgi;
    scgi_temp_path {work}/temp/scgi;
    include {work}/site.conf;
}}
"""
    path = work / "nginx.conf"
    path.write_text(config, encoding="utf-8")
    return path


def start(work: Path, **values) -> None:
    """Write the configuration, check it and start nginx; wait for its pid."""
    static_file = values.pop("static_file", None)
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx)")
    config = write_config(work, site_config(**values), static_file=static_file)
    subprocess.run(  # noqa: S603 - nginx on a configuration written here
        [binary, "-t", "-q", "-c", str(config), "-e", str(work / "error.log")],
        check=True,
    )
    subprocess.run(  # noqa: S603 - nginx on a configuration written here
        [binary, "-c", str(config), "-e", str(work / "error.log")], check=True
    )
    pid_file = work / "nginx.pid"
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text().strip():
            return
        time.sleep(0.05)
    raise RuntimeError("nginx did not start: " + _log(work))


def stop(work: Path) -> None:
    pid_file = work / "nginx.pid"
    if not pid_file.exists():
        return
    try:
        pid = int(pid_file.read_text().strip())
    except ValueError:
        return
    try:
        os.kill(pid, signal.SIGQUIT)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def served_from_copy(work: Path, probe: str, timeout: float = 2.0) -> bool:
    """Whether nginx answered the request sent with `X-Front-Probe: probe`
    itself, from the published copy, rather than passing it to gunicorn.
    (nginx writes the line once the answer is out: wait for it a little.)"""
    log = work / "probe.log"
    deadline = time.monotonic() + timeout
    while True:
        if log.exists():
            for line in log.read_text(errors="replace").splitlines():
                name, _, upstream = line.partition(" ")
                if name == probe:
                    return upstream == "-"
        if time.monotonic() > deadline:
            raise LookupError(f"nginx logged no request with probe {probe!r}")
        time.sleep(0.02)


def _log(work: Path) -> str:
    log = work / "error.log"
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("work", type=Path)
    parser.add_argument("--port", type=int, default=8014)
    parser.add_argument("--upstream", default="127.0.0.1:8000")
    parser.add_argument("--front-root", type=Path)
    parser.add_argument("--static-root", type=Path)
    parser.add_argument("--host", action="append", default=[])
    parser.add_argument("--static-file", type=Path)
    options = parser.parse_args(argv)
    if options.action == "stop":
        stop(options.work)
        return 0
    if options.front_root is None:
        parser.error("start needs --front-root")
    start(
        options.work,
        port=options.port,
        upstream=options.upstream,
        front_root=options.front_root.resolve(),
        static_root=(options.static_root or options.work / "static").resolve(),
        hosts=options.host or ["127.0.0.1", "localhost"],
        static_file=options.static_file.resolve() if options.static_file else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
