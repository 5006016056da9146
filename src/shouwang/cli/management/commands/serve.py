"""``shouwang serve``: collect static files, start the background worker, serve with gunicorn.

The worker (``shouwang worker``) runs feed imports, screening runs and the monthly schedule.
It is started as a child in the same process group, so Ctrl+C stops both; deployments that
run the worker elsewhere pass ``--no-worker``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from shouwang.registry.io.services import import_jobs_fail_interrupted


def control_socket() -> Path:
    """gunicorn's control socket under the var folder, readable by the service user only."""
    run = Path(settings.VAR_DIR) / "run"
    run.mkdir(mode=0o700, parents=True, exist_ok=True)
    return run / "gunicorn.ctl"


class Command(BaseCommand):
    help = "用 gunicorn 提供网站服务（默认 http://127.0.0.1:8000）"

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind", default=settings.SHOUWANG_BIND, help="监听地址，默认 %(default)s"
        )
        parser.add_argument(
            "--workers", type=int, default=settings.SHOUWANG_WORKERS, help="工作进程数"
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.SHOUWANG_THREADS,
            help="每个工作进程的线程数",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="不启动后台任务进程（已在别处运行时）"
        )

    def handle(
        self, *args, bind: str, workers: int, threads: int, no_worker: bool = False, **options
    ):
        # A database never migrated (or left behind by an upgrade) is brought up to date first.
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        interrupted = import_jobs_fail_interrupted()
        if interrupted:
            self.stdout.write(f"{interrupted} 个导入任务因上次服务停止而中断，已标记为出错")
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which(
            "gunicorn"
        )
        if gunicorn is None:
            self.stderr.write("找不到 gunicorn，请先执行 make install")
            raise SystemExit(1)
        if not no_worker:
            shouwang = shutil.which("shouwang", path=os.path.dirname(sys.executable))
            if shouwang is None:
                self.stderr.write("找不到 shouwang 命令，后台任务（导入、比对）将不会运行")
            else:
                subprocess.Popen([shouwang, "worker"])  # noqa: S603 (our own console script)
        self.stdout.write(f"守望已启动：http://{bind}/  （按 Ctrl+C 停止）")
        os.execv(
            gunicorn,
            [
                gunicorn,
                "shouwang.wsgi:application",
                "--bind",
                bind,
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "300",
                "--access-logfile",
                "-",
                # ID and phone numbers are redacted from the access log (core.logredact).
                "--logger-class",
                "shouwang.core.logredact.RedactingGunicornLogger",
                # Each installation's own control socket, so two on one machine never share.
                "--control-socket",
                str(control_socket()),
            ],
        )
