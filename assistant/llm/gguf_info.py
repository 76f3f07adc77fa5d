"""Read the few metadata fields of a GGUF file that Ollama's ``/api/tags`` and ``/api/show`` report.

Only the key/value header is read (arrays such as the tokenizer vocabulary are skipped), so this
is cheap and needs no llama.cpp.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

# llama.cpp's llama_ftype values for the common quantisations.
_FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    32: "BF16",
}
# GGUF value types: struct format of the fixed-size ones.
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
_QUANT_IN_NAME = re.compile(r"(I?Q\d_[A-Z0-9_]+|Q\d_\d|BF16|F16|F32)", re.IGNORECASE)
_SIZE_IN_NAME = re.compile(r"(\d+(?:\.\d+)?[MB])\b")


class GGUFError(ValueError):
    """The file is not a readable GGUF model."""


@dataclass(frozen=True)
class GGUFInfo:
    """What a model listing shows about one GGUF file."""

    path: Path
    size_bytes: int
    architecture: str
    name: str
    parameter_size: str
    quantization: str
    context_length: int | None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Human label, e.g. ``SmolLM2-135M-Instruct Q4_1``."""
        return f"{self.name} {self.quantization}".strip()


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise GGUFError("truncated GGUF header")
    return struct.unpack(fmt, data)[0]


def _read_string(f: BinaryIO) -> str:
    length = _read(f, "<Q")
    if length > 1 << 24:
        raise GGUFError("implausible string length in GGUF header")
    return f.read(length).decode("utf-8", errors="replace")


def _read_value(f: BinaryIO, vtype: int) -> Any:
    if vtype in _SCALARS:
        return _read(f, _SCALARS[vtype])
    if vtype == _STRING:
        return _read_string(f)
    if vtype == _ARRAY:
        etype, count = _read(f, "<I"), _read(f, "<Q")
        # Arrays (vocabularies, merges) are large and never shown; skip them.
        if etype in _SCALARS:
            f.seek(struct.calcsize(_SCALARS[etype]) * count, 1)
        elif etype == _STRING:
            for _ in range(count):
                f.seek(_read(f, "<Q"), 1)
        else:
            raise GGUFError(f"unsupported GGUF array element type {etype}")
        return None
    raise GGUFError(f"unknown GGUF value type {vtype}")


def read_gguf_info(path: Path | str) -> GGUFInfo:
    """Read a GGUF file's header.

    Args:
        path: The ``.gguf`` file.

    Raises:
        FileNotFoundError: The file does not exist.
        GGUFError: The file is not GGUF or its header is damaged.
    """
    path = Path(path)
    size = path.stat().st_size
    meta: dict[str, Any] = {}
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise GGUFError(
                f"{path} is not a GGUF model file (it does not start with the GGUF signature)"
            )
        try:
            version = _read(f, "<I")
            if version < 2:
                raise GGUFError(f"GGUF version {version} is too old")
            _read(f, "<Q")  # tensor count
            kv_count = _read(f, "<Q")
            for _ in range(kv_count):
                key = _read_string(f)
                value = _read_value(f, _read(f, "<I"))
                if value is not None:
                    meta[key] = value
        except GGUFError as exc:  # name the file: the caller may not show which one it read
            raise GGUFError(f"{path}: {exc}") from None
    arch = str(meta.get("general.architecture", ""))
    stem = path.name.removesuffix(".gguf")
    quant = _FILE_TYPES.get(int(meta.get("general.file_type", -1)), "")
    if not quant and (m := _QUANT_IN_NAME.search(stem)):
        quant = m.group(1).upper()
    # The file name says what people call the model ("SmolLM2-135M-Instruct"); general.name is
    # often a training-run label, so it is only the fallback.
    name = re.sub(rf"[.\-_]?{re.escape(quant)}$", "", stem, flags=re.IGNORECASE) if quant else stem
    name = name or str(meta.get("general.name") or stem)
    size_label = str(meta.get("general.size_label") or "")
    if not size_label and (m := _SIZE_IN_NAME.search(stem)):
        size_label = m.group(1)
    ctx = meta.get(f"{arch}.context_length")
    return GGUFInfo(
        path=path,
        size_bytes=size,
        architecture=arch,
        name=name,
        parameter_size=size_label,
        quantization=quant,
        context_length=int(ctx) if ctx is not None else None,
        metadata=meta,
    )
