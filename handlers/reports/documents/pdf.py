"""PDF of a .docx or .xlsx through LibreOffice (``soffice --headless --convert-to pdf``), with the
official fonts mapped to their free look-alikes (``fonts.fontconfig_file``).

Each conversion gets its own LibreOffice profile directory, so conversions running at the same
time (or a LibreOffice the user has open) do not block one another.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from handlers.reports.documents.fonts import fontconfig_file

TIMEOUT_SECONDS = 180


class ConversionFailed(RuntimeError):
    pass


def soffice() -> str | None:
    """The LibreOffice binary, if installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(source: Path, out_dir: Path) -> Path:
    """Convert ``source`` into ``out_dir`` and return the PDF's path."""
    binary = soffice()
    if binary is None:
        raise ConversionFailed("LibreOffice (soffice) is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="branchbot-soffice-") as work:
        folder = Path(work)
        env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig_file(folder)), "HOME": str(folder)}
        command = [binary, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                   "--norestore", "--convert-to", "pdf", "--outdir", str(out_dir), str(source)]
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            raise ConversionFailed(f"LibreOffice took longer than {TIMEOUT_SECONDS} s") from exc
    pdf = out_dir / (source.stem + ".pdf")
    if done.returncode != 0 or not pdf.exists():
        raise ConversionFailed(f"LibreOffice failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return pdf
