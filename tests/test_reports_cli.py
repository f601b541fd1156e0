"""`branchbot summary` / `branchbot report` as real processes, and /report on the console adapter."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
from openpyxl import load_workbook

from bot.adapters.console.chat import ConsoleChat
from bot.runtime.app import App
from handlers.reports.periods import YOUNG_DAYS
from storage.db import session_factory
from storage.repositories.members import MemberRepository
from tests.conftest import Branch
from tests.test_cli import cli, query


def test_summary_and_report_commands(tmp_path: Path) -> None:
    assert cli(tmp_path, "demo", "--no-chat").returncode == 0
    rollup = cli(tmp_path, "summary", "--period", "全程")
    assert rollup.returncode == 0, rollup.stderr
    assert "各支部进度" in rollup.stdout and "事业单位党支部" in rollup.stdout
    one = cli(tmp_path, "summary", "--branch", "机关第一党支部")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    shown = "本月" if today.day >= YOUNG_DAYS else "上月"  # the last complete month in the first days
    assert f"📊 机关第一党支部 · {shown}" in one.stdout and "王建国" in one.stdout and "赵敏" not in one.stdout

    result = cli(tmp_path, "report", "--branch", "机关第二党支部", "--format", "xlsx", "--out", "b2.xlsx")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "b2.xlsx"
    book = load_workbook(tmp_path / "b2.xlsx")
    sheet = book["学习台账"]
    assert sheet["A1"].value == "机关第二党支部学习台账"
    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0] != "合计"]
    expected = query(tmp_path, "select count(*) from study_records s join organizations o on o.id = s.org_id "
                               "where o.name = '机关第二党支部' and s.deleted_at is null")[0][0]
    assert len(rows) == expected and [r[0] for r in rows] == list(range(1, expected + 1))
    assert {r[2] for r in rows} <= {"赵敏", "孙磊", "周婷", "吴刚", "郑丽"}  # never another branch's rows

    everything = cli(tmp_path, "report", "--out", "files")
    assert everything.returncode == 0, everything.stderr
    paths = everything.stdout.split()
    assert [Path(p).suffix for p in paths] == [".xlsx", ".docx", ".png", ".png"]  # weekly, side by side
    text = "\n".join(p.text for p in docx.Document(tmp_path / paths[1]).paragraphs)
    assert "示例局党委主题教育工作阶段性总结" in text and "X" not in text

    missing = cli(tmp_path, "report", "--branch", "不存在的支部")
    assert missing.returncode == 1 and "没有名为“不存在的支部”的支部" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = cli(tmp_path, "summary", "--from", "2023-13-45", "--to", "2023-10-31")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "没有这一天" in bad.stderr


async def test_console_report_writes_files(app: App, branch: Branch, tmp_path: Path) -> None:
    async with session_factory(app.engine)() as session, session.begin():
        await MemberRepository(session).bind(branch.secretary, platform="console", user_id="s1",
                                             display_name="王书记")
    out = io.StringIO()
    chat = ConsoleChat(app.core, user_id="s1", user_name="王书记", out=out, files_dir=str(tmp_path))
    await chat.send("/report 台账 本月")
    printed = out.getvalue()
    assert "正在生成报表" in printed and "… 生成 Excel 台账" in printed and "报表已生成，共 1 个文件" in printed
    (path,) = tmp_path.glob("*.xlsx")
    assert f"📎 {path}" in printed
    assert load_workbook(path).sheetnames[0] == "汇总"


def _template(path: Path, *paragraphs: str) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def test_report_renders_the_offices_own_template(tmp_path: Path) -> None:
    assert cli(tmp_path, "demo", "--no-chat").returncode == 0
    own = _template(tmp_path / "我局模板.docx", "{{ organisation }}阶段性工作情况",
                    "共开展调研走访{{ figures.visits }}次，整改率{{ figures.rectification_rate }}。",
                    "{%p for p in shortfalls %}", "{{ p.lead }}{{ p.text }}", "{%p endfor %}")
    result = cli(tmp_path, "report", "--format", "docx", "--template", str(own), "--out", "own.docx")
    assert result.returncode == 0, result.stderr
    text = "\n".join(p.text for p in docx.Document(tmp_path / "own.docx").paragraphs)
    assert text.startswith("示例局党委阶段性工作情况") and "共开展调研走访" in text and "{{" not in text
    assert "（一）工作进展不平衡" in text  # the shortfalls, as the shipped draft words them

    typo = _template(tmp_path / "错的.docx", "标题", "走访{{ figures.vists }}次")
    for how in (["--template", str(typo)], []):  # the option, or the setting that keeps it
        env = {} if how else {"BRANCHBOT_REPORT_TEMPLATE": str(typo)}
        bad = cli(tmp_path, "report", "--format", "docx", *how, "--out", "bad.docx", env=env)
        assert bad.returncode == 1 and "Traceback" not in bad.stderr
        assert "模板第 2 段" in bad.stderr and "{{ figures.vists }}" in bad.stderr, bad.stderr
        assert not (tmp_path / "bad.docx").exists()
    missing = cli(tmp_path, "report", "--format", "docx", "--template", "没有这个.docx")
    assert missing.returncode == 1 and "找不到模板文件" in missing.stderr and "Traceback" not in missing.stderr
