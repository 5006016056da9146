"""Read back every household and member of one installation, as JSON on stdout.

Run as a separate process against the installation named by the environment
(``SHOUWANG_VAR_DIR``, ``DATABASE_URL``, ``SHOUWANG_DATA_KEY``). ID and phone numbers are
decrypted with the configured key and printed only as SHA-256 digests (never in clear), or as
"undecryptable" when the key does not open them (``crypto.DecryptionError``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

UNDECRYPTABLE = "undecryptable"


def _digest_of_decrypted(token: str) -> str:
    from shouwang.core import crypto

    if not token:
        return ""
    try:
        return hashlib.sha256(crypto.decrypt(token).encode()).hexdigest()
    except crypto.DecryptionError:
        return UNDECRYPTABLE


def readout() -> dict[str, object]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from shouwang.registry.models import Household, Member
    from shouwang.screening.choices import BatchStatus
    from shouwang.screening.models import FeedBatch

    households = [
        {
            "number": h.household_number,
            "village": h.village_id,
            "head_name": h.head_name,
            "member_count": h.member_count,
            "per_capita_net_income": str(h.per_capita_net_income),
            "phone_masked": h.phone_masked,
            "phone": _digest_of_decrypted(h.phone_encrypted),
        }
        for h in Household.objects.order_by("household_number")
    ]
    members = [
        {
            "household": m.household.household_number,
            "name": m.name,
            "relation": m.relation,
            "birth_date": m.birth_date.isoformat(),
            "id_number_masked": m.id_number_masked,
            "id_number": _digest_of_decrypted(m.id_number_encrypted),
        }
        for m in Member.objects.select_related("household").order_by(
            "household__household_number", "id_number_index"
        )
    ]
    staged = FeedBatch.objects.filter(status=BatchStatus.STAGED).values_list(
        "parquet_path", flat=True
    )
    executor = MigrationExecutor(connection)
    return {
        "households": households,
        "members": members,
        "staged_batches": len(staged),
        "staged_files_present": sum(1 for p in staged if p and Path(p).is_file()),
        "pending_migrations": [
            f"{m.app_label}.{m.name}"
            for m, _ in executor.migration_plan(executor.loader.graph.leaf_nodes())
        ],
    }


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "shouwang.settings.base"
    import django

    django.setup()
    json.dump(readout(), sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
