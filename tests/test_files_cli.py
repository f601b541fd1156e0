"""`branchbot archive`, `branchbot backup` and `branchbot restore` as real processes on the demo
(whose sample photos and files are kept in the store): the archive holds them with its index;
backup → restore into a fresh database and store gives every table and every file back; bad
input is one Chinese line."""

from __future__ import annotations

import hashlib
import io
import sqlite3
import zipfile
from pathlib import Path

from openpyxl import load_workbook

from tests.test_cli import cli


def _tables(db: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(db) as connection:
        names = [n for (n,) in connection.execute(
            "select name from sqlite_master where type='table' order by name")]
        return {n: sorted(connection.execute(f'select * from "{n}"').fetchall(), key=repr)
                for n in names}


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_archive_backup_and_restore_on_the_demo(tmp_path: Path) -> None:
    store = {"BRANCHBOT_FILES_DIR": str(tmp_path / "files")}
    assert cli(tmp_path, "demo", "--no-chat", env=store).returncode == 0
    kept = _files(tmp_path / "files")
    assert len(kept) == 4  # two meeting photos, a progress photo, a note

    made = cli(tmp_path, "archive", "--out", "主题教育资料归档.zip", "--branch", "机关第一党支部",
               env=store)
    assert made.returncode == 0, made.stderr
    assert "正在归档 1/1：机关第一党支部" in made.stderr and "已生成 主题教育资料归档.zip" in made.stdout
    with zipfile.ZipFile(tmp_path / "主题教育资料归档.zip") as archive:
        listed = list(load_workbook(io.BytesIO(archive.read("目录.xlsx")), read_only=True)["文件"]
                      .iter_rows(min_row=2, values_only=True))
        assert len(listed) == 4
        for row in listed:
            assert hashlib.sha256(archive.read(row[4])).hexdigest() == row[8]
        assert not any(name.startswith("机关第二党支部/") for name in archive.namelist())

    backed = cli(tmp_path, "backup", "--out", "backup", env=store)
    assert backed.returncode == 0, backed.stderr
    assert "已备份到 backup：数据库和 4 个文件" in backed.stdout
    again = cli(tmp_path, "backup", "--out", "backup", env=store)
    assert again.returncode == 1 and again.stderr.startswith("Error: 备份失败：")
    assert "backup 不是空文件夹" in again.stderr and "is not empty" not in again.stderr  # in Chinese
    assert "Traceback" not in again.stderr

    fresh = {"BRANCHBOT_FILES_DIR": str(tmp_path / "restored_files")}
    restored = cli(tmp_path, "restore", "backup", env=fresh, db="restored.db")
    assert restored.returncode == 0, restored.stderr
    assert "已恢复：数据库和 4 个文件" in restored.stdout
    assert _tables(tmp_path / "restored.db") == _tables(tmp_path / "bb.db")
    assert _files(tmp_path / "restored_files") == kept
    twice = cli(tmp_path, "restore", "backup", env=fresh, db="restored.db")
    assert twice.returncode == 1 and "恢复失败：" in twice.stderr and "Traceback" not in twice.stderr
    assert "restored.db 已存在：只能恢复到一个全新的数据库" in twice.stderr
    nothing = cli(tmp_path, "restore", "nowhere", env=fresh, db="other.db")
    assert nothing.returncode == 1 and "恢复失败：nowhere 中没有 manifest.json" in nothing.stderr
