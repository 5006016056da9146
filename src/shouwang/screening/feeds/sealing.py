"""Free text in staged feeds is sealed: kept only as ciphertext of the project's field
encryption (``core.crypto``: AES-256-GCM or SM4-GCM, tagged with its algorithm), opened in
memory where a person reads it (an alert's evidence) or a rule compares it (the engines).

Free-text columns (``ColumnType.TEXT``: names, diagnoses, diseases, schools, employers,
addresses) are what a department's file says about a person in words; rules compute on
choices, amounts, counts and dates, which stay as they are. Within one file a value is sealed
once and its ciphertext repeated (up to ``SEAL_CACHE_VALUES`` distinct values per column, then
afresh), so Parquet's dictionary keeps the file small and a reader decrypts each distinct
ciphertext once. Rows staged before sealing hold clear text, which is read as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shouwang.core import crypto

#: Arrow field metadata marking a sealed column in a staged file's schema.
SEALED_KEY = b"shouwang.sealed"
SEALED_VALUE = b"true"
#: Distinct values per column whose ciphertext is reused within a file.
SEAL_CACHE_VALUES = 100_000

_PREFIXES = tuple(f"{name}:" for name in crypto.CIPHERS)


class SealedValueUnreadable(Exception):
    """A sealed value failed to open: the file was altered or the data key changed."""


def is_sealed_field(field: pa.Field) -> bool:
    return (field.metadata or {}).get(SEALED_KEY) == SEALED_VALUE


def sealed_field_names(schema: pa.Schema) -> list[str]:
    return [f.name for f in schema if is_sealed_field(f)]


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(_PREFIXES)


class ColumnSealer:
    """Seals the chunks of one column of one file, reusing a value's ciphertext."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}

    def seal(self, values: pa.Array) -> pa.Array:
        encoded = pc.dictionary_encode(values)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        distinct = encoded.dictionary.to_pylist()
        if len(self._tokens) + len(distinct) > SEAL_CACHE_VALUES:
            self._tokens.clear()
        tokens = self._tokens
        sealed = []
        for value in distinct:
            token = tokens.get(value)
            if token is None:
                token = tokens[value] = crypto.encrypt(value)
            sealed.append(token)
        return pa.array(sealed, type=pa.string()).take(encoded.indices)


def open_value(value: str) -> str:
    """The clear text of a sealed value; clear text as it is."""
    if not is_sealed(value):
        return value
    try:
        return crypto.decrypt(value)
    except (crypto.DecryptionError, ValueError) as exc:
        raise SealedValueUnreadable(str(exc)) from None


def opened_values(values: Iterable[str]) -> dict[str, str]:
    """Sealed value → clear text, for the sealed ones among ``values`` (each opened once)."""
    return {value: open_value(value) for value in set(values) if is_sealed(value)}


def open_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A string column with its sealed values opened (each distinct ciphertext once)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(pa.string())
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary.to_pylist()
    clear = [open_value(value) for value in distinct]
    return pa.array(clear, type=pa.string()).take(encoded.indices)


def open_table(table: pa.Table) -> pa.Table:
    """``table`` with every string column's sealed values opened."""
    for position, field in enumerate(table.schema):
        if not pa.types.is_string(field.type):
            continue
        column = table.column(position)
        if not any(pc.any(pc.starts_with(column, prefix)).as_py() for prefix in _PREFIXES):
            continue
        table = table.set_column(position, field, open_array(column))
    return table


def read_staged(path: Path | str, columns: list[str] | None = None, **options) -> pa.Table:
    """A staged file's rows as they were read from the department's file, free text opened;
    ``options`` go to ``pyarrow.parquet.read_table`` (e.g. ``filters``)."""
    return open_table(pq.read_table(path, columns=columns, **options))


__all__ = [
    "SEALED_KEY",
    "ColumnSealer",
    "SealedValueUnreadable",
    "is_sealed",
    "is_sealed_field",
    "open_array",
    "open_table",
    "open_value",
    "opened_values",
    "read_staged",
    "sealed_field_names",
]
