"""The only reader of os.environ. Every setting that may come from the environment is here."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


#: Where the SQLite database, generated keys and uploads live (outside the source tree in production).
VAR_DIR = Path(os.environ.get("SHOUWANG_VAR_DIR", REPO_ROOT / "var")).resolve()
DATABASE_URL = os.environ.get("DATABASE_URL", "")
SECRET_KEY = os.environ.get("SHOUWANG_SECRET_KEY", "")
DEBUG = _flag("SHOUWANG_DEBUG", False)
ALLOWED_HOSTS = [
    h for h in os.environ.get("SHOUWANG_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
#: Base64 of the 32-byte master key for personal-data encryption; a file under VAR_DIR otherwise.
DATA_KEY = os.environ.get("SHOUWANG_DATA_KEY", "")
#: "aes-256-gcm" (default) or "sm4-gcm" (GB/T 32907, for 商用密码 compliance).
CIPHER = os.environ.get("SHOUWANG_CIPHER", "aes-256-gcm")
#: "hmac-sha256" (default) or "hmac-sm3" (GB/T 32905).
BLIND_INDEX = os.environ.get("SHOUWANG_BLIND_INDEX", "hmac-sha256")
BIND = os.environ.get("SHOUWANG_BIND", "127.0.0.1:8000")


def _cores() -> int:
    """Cores this process may run on (its affinity, where the system reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: gunicorn worker processes (one per core: page rendering is CPU-bound Python, and a third
#: process on two cores cost 10-15 % more CPU a request under load, bench/load.py) and threads
#: in each (they overlap database waits, and keep-alive connections).
WORKERS = int(os.environ.get("SHOUWANG_WORKERS", str(_cores())))
THREADS = int(os.environ.get("SHOUWANG_THREADS", "4"))
#: The county (or higher division) this installation serves; people placed by nothing else land here.
HOME_DIVISION = os.environ.get("SHOUWANG_HOME_DIVISION", "500156000000")
#: Spark master for ``--engine spark``: local[2] on one machine, spark://host:7077 for a cluster.
SPARK_MASTER = os.environ.get("SHOUWANG_SPARK_MASTER", "local[2]")
#: Failed sign-ins per user name, and per client address, before sign-in locks; the window in
#: which they count and how long the lock lasts, in minutes.
SIGNIN_MAX_FAILURES = int(os.environ.get("SHOUWANG_SIGNIN_MAX_FAILURES", "5"))
SIGNIN_MAX_FAILURES_PER_ADDRESS = int(
    os.environ.get("SHOUWANG_SIGNIN_MAX_FAILURES_PER_ADDRESS", "20")
)
SIGNIN_WINDOW_MINUTES = int(os.environ.get("SHOUWANG_SIGNIN_WINDOW_MINUTES", "15"))
SIGNIN_LOCK_MINUTES = int(os.environ.get("SHOUWANG_SIGNIN_LOCK_MINUTES", "15"))
#: An import's spreadsheet may unpack to at most this many MB, and hold at most so many rows.
IMPORT_MAX_UNPACKED_MB = int(os.environ.get("SHOUWANG_IMPORT_MAX_UNPACKED_MB", "1024"))
IMPORT_MAX_ROWS = int(os.environ.get("SHOUWANG_IMPORT_MAX_ROWS", "5000000"))
#: Months a staged department batch is kept after its period before it is purged.
FEED_RETENTION_MONTHS = int(os.environ.get("SHOUWANG_FEED_RETENTION_MONTHS", "24"))
