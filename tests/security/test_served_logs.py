"""The served site as a county runs it (``shouwang serve``, gunicorn): no ID or phone number
in its log lines, each installation with its own control socket, and the security headers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from shouwang.core.logredact import redact

ID = "110101199003077777"
PHONE = "13912345678"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _serve(var_dir: Path, port: int) -> subprocess.Popen:
    shouwang = Path(sys.executable).with_name("shouwang")
    # Each site on its own SQLite in its own var folder, as a county installs it (the test
    # run's DATABASE_URL names a database only the test runner creates).
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env["SHOUWANG_VAR_DIR"] = str(var_dir)
    return subprocess.Popen(
        [str(shouwang), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_up(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read())
        try:
            _get(f"http://127.0.0.1:{port}/login/")
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("shouwang serve did not answer within 60 s")


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is not None:
        return process.communicate()[0]
    os.killpg(process.pid, 15)
    try:
        out, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        out, _ = process.communicate()
    return out


def test_redact_hides_ids_and_phones_and_keeps_the_rest():
    assert redact(f"GET /households/?q={ID}&page=2") == "GET /households/?q=[ID]&page=2"
    assert redact(f"phone=%2B86{PHONE} x") == "phone=[PHONE] x"
    assert redact("household 5001561042010001 month 202612") == (
        "household 5001561042010001 month 202612"
    )
    assert redact("11010119900307777X") == "[ID]"


@pytest.mark.skipif(sys.platform != "linux", reason="needs gunicorn (Linux)")
def test_two_served_sites_log_no_numbers_and_keep_their_own_control_socket(tmp_path):
    sites = []
    for name in ("a", "b"):
        var_dir = tmp_path / name
        port = _free_port()
        sites.append((var_dir, port, _serve(var_dir, port)))
    try:
        for _var_dir, port, process in sites:
            _wait_up(port, process)
        var_dir, port, _process = sites[0]
        status, headers = _get(f"http://127.0.0.1:{port}/households/?q={ID}&phone={PHONE}")
        assert status == 302
        status, headers = _get(f"http://127.0.0.1:{port}/login/?next=/x/{ID}/")
        assert status == 200
        policy = headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        for var_dir, _port, _process in sites:
            control = var_dir / "run" / "gunicorn.ctl"
            assert control.exists(), f"no control socket at {control}"
            assert oct((var_dir / "run").stat().st_mode & 0o777) == "0o700"
    finally:
        logs = [_stop(process) for _var_dir, _port, process in sites]
    assert "/households/?q=[ID]&phone=[PHONE]" in logs[0]
    for log in logs:
        assert ID not in log and PHONE not in log
