"""The papers an office hands in (handlers/reports/documents/): every file is written, then opened
again (python-docx, openpyxl, LibreOffice) and checked the way a secretary would look at it."""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from zoneinfo import ZoneInfo

from bot.demo.data import create_demo
from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as T
from handlers.reports.files import Made, Refused, Request, produce
from handlers.reports.periods import Period
from storage.db import session_factory
from storage.queries.scope import Scope
from storage.repositories.orgs import OrgRepository
from tests import seed000
from handlers.reports.documents import build_templates, charts, drafts, official_docx, pdf
from handlers.reports.documents.context import (
    BranchFigures,
    DraftScope,
    IncompleteMeeting,
    MakeupDue,
    MeetingRef,
    MemberSummaryContext,
    Milestone,
    OrgLifeFigures,
    ProblemFigures,
    ResearchFigures,
    StageSummaryContext,
    StudyFigures,
)
from handlers.reports.documents.dates import document_date, document_period
from handlers.reports.documents.fonts import fontconfig_rules
from handlers.reports.documents.ledger_xlsx import (
    CommitmentRow,
    Kind,
    LedgerTitle,
    MeetingRow,
    ProblemRow,
    ShuxueRow,
    StudyRow,
    SummaryRow,
    VisitRow,
    lines_needed,
    problem_number,
    write_ledger,
)
from handlers.reports.documents.templates import TemplateProblem
from handlers.reports.documents.writing import numeral, share

WRITTEN = date(2023, 11, 9)


# --- sample papers ---------------------------------------------------------------------------

def office_context(**changes: object) -> StageSummaryContext:
    """Seed 000's bureau: its figures, six branches of uneven progress."""
    branches = tuple(BranchFigures(*row) for row in (
        ("机关第一党支部", 12, 12, 96.5, 14, 7, 3, 1, 0), ("机关第二党支部", 10, 4, 20.0, 2, 0, 1, 0, 1),
        ("监测站党支部", 15, 13, 110.0, 20, 6, 2, 1, 0), ("执法大队党支部", 20, 9, 61.5, 31, 3, 4, 0, 1),
        ("环境学会党支部", 8, 8, 50.0, 5, 5, 1, 0, 0), ("离退休党支部", 9, 2, 6.0, 0, 0, 0, 0, 0)))
    values: dict[str, object] = dict(
        scope=DraftScope.office, organisation="局", period_start=date(2023, 9, 15),
        period_end=date(2023, 11, 7), written_on=WRITTEN, campaign_start=date(2023, 9, 15),
        organisations=6, organisations_active=6, members=74, reported=48,
        study=StudyFigures(hours=344.0, hours_by_form={"自学": 120.0, "线上学习": 30.5, "三会一课": 90.0},
                           sessions_by_form={"三会一课": 120, "主题党日": 26, "中心组学习": 2, "联组学习": 2},
                           attendances=1210, reading_days=5.5, reading_target_days=7,
                           reading_due=date(2023, 11, 15), shuxue_answers=210, shuxue_streak=7, lectures=8,
                           lecturers=("王书记", "张书记", "刘书记", "陈书记", "赵书记", "孙书记"), secretaries=6),
        research=ResearchFigures(topics=34, topic_owners=34, trips=75, visits=152, solved=65, paired_villages=59,
                                 covered_villages=59, round_name="第一轮", round_due=date(2023, 10, 31),
                                 commitments=60, commitments_kept=22),
        problems=ProblemFigures(listed=13, found_in_period=13, pending=1, rectifying=10, closure_requested=2,
                                closed=2, closed_in_period=2, measures=41, overdue=2, reopened=1),
        org_life=OrgLifeFigures(
            meetings_by_kind={"支部党员大会": 12, "支委会": 18, "党小组会": 9, "党课": 8, "主题党日": 12}, complete=56,
            incomplete=(IncompleteMeeting("机关第二党支部", date(2023, 10, 12), "支委会", ("议题", "记录")),
                        IncompleteMeeting("离退休党支部", date(2023, 10, 20), "主题党日", ("程序",)),
                        IncompleteMeeting("执法大队党支部", date(2023, 11, 2), "党小组会", ("时间",))),
            absences=31, makeups_done=26,
            makeups_outstanding=(MakeupDue("周强", "执法大队党支部", date(2023, 11, 2), "党小组会"),
                                 MakeupDue("吴敏", "机关第二党支部", date(2023, 10, 12), "支委会"))),
        branches=branches,
        milestones=(Milestone(date(2023, 11, 21), "调研课题结题"), Milestone(date(2023, 11, 15), "读书班全部7天集中学习"),
                    Milestone(date(2023, 10, 1), "已经过去的节点")),
    )
    values.update(changes)
    return StageSummaryContext(**values)  # type: ignore[arg-type]


def branch_context(**changes: object) -> StageSummaryContext:
    """A branch where everyone has reported and nothing has been closed yet."""
    values: dict[str, object] = dict(
        scope=DraftScope.branch, organisation="机关第二党支部", period_start=date(2023, 10, 1),
        period_end=date(2023, 10, 31), written_on=date(2023, 11, 2), members=10, reported=10,
        study=StudyFigures(hours=40.0, sessions_by_form={"三会一课": 3}, attendances=27, shuxue_answers=8,
                           shuxue_streak=4),
        problems=ProblemFigures(listed=1, rectifying=1))
    values.update(changes)
    return StageSummaryContext(**values)  # type: ignore[arg-type]


def member_context(**changes: object) -> MemberSummaryContext:
    values: dict[str, object] = dict(
        name="李娜", branch="机关第一党支部", period_start=date(2023, 10, 1), period_end=date(2023, 10, 31),
        written_on=date(2023, 11, 2), hours=6.5, hours_by_form={"自学": 4.0, "三会一课": 2.5}, target_hours=2.7,
        books=("《习近平著作选读》",), meetings_attended=2, shuxue_answers=4, shuxue_periods=4, visits=1)
    values.update(changes)
    return MemberSummaryContext(**values)  # type: ignore[arg-type]


def text_of(docx: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)


def ledger_rows() -> dict[str, list[object]]:
    """A six-member branch's month, with the long texts that used to be cut off."""
    people = ["王书记", "李娜", "张伟", "刘洋", "陈静", "赵敏"]
    start = date(2023, 10, 1)
    content = "学习贯彻习近平新时代中国特色社会主义思想主题教育读书班第三专题：深入领会“两个确立”的决定性意义"
    return {
        "summary": [SummaryRow("党员人数", 6, Kind.integer, "在册党员"),
                    SummaryRow("参与率", 5 / 6, Kind.percent, "登记了学习或调研走访的党员 ÷ 在册党员"),
                    SummaryRow("学习时长（小时）", 64.5, Kind.hours, "学习时长之和"),
                    SummaryRow("整改率", 1 / 3, Kind.percent, "已销号 ÷ 已确认")],
        "study": [StudyRow(start + timedelta(days=d), people[(d + k) % 6], ("自学", "三会一课", "线上学习")[k],
                           (1.5, 2.0, 0.5)[k], content if k == 0 else "《习近平著作选读》第一卷",
                           "通过学习，进一步增强了“四个意识”、坚定“四个自信”、做到“两个维护”。" * (2 - k % 2),
                           "本人登记") for d in range(0, 31, 2) for k in range(3)],
        "visits": [VisitRow(start + timedelta(days=d), people[d % 6], "结对居村", "祝桥镇星光村村委会", "村党总支书记",
                            "反映河道保洁不及时、垃圾分类投放点设置不合理等问题，现场协调环卫所落实整改。" * 2, d % 3,
                            "河道长效管理机制研究") for d in range(1, 31, 3)],
        "problems": [ProblemRow(problem_number("机关第一党支部", i + 1), start + timedelta(days=3 * i), people[i % 6],
                                "部分企业环评审批材料要求重复提交，群众反映办事不便。", "群众反映", "限期整改",
                                people[(i + 1) % 6], start + timedelta(days=3 * i + 30), "梳理审批材料清单，推行一次告知。",
                                ("整改中", "已销号", "申请销号", "待确认", "整改中")[i], "已完成材料清单梳理。",
                                (0.6, 1.0, 0.9, None, 0.3)[i], start + timedelta(days=20) if i == 1 else None, i == 4)
                     for i in range(5)],
        "commitments": [CommitmentRow(start + timedelta(days=i), name, "每月到结对社区开展一次垃圾分类宣传。",
                                      "仍在推进", "=HYPERLINK(\"http://example.invalid\")", start + timedelta(days=20))
                        for i, name in enumerate(people)],
        "shuxue": [ShuxueRow(start + timedelta(weeks=w), name, "学习《习近平著作选读》。", "走访星光村。", "协调楼道照明。",
                             start + timedelta(weeks=w, days=1)) for w in range(4) for name in people],
        "meetings": [MeetingRow(date(2023, 10, 12), "14:30", "16:30", "支部党员大会", "三楼会议室", "学习读书班精神",
                                "王书记", "李娜", 6, 5, 1, "刘洋（公差）", "刘洋已补学", "齐全"),
                     MeetingRow(date(2023, 10, 19), "", "", "支委会", "", "研究问题清单", "王书记", "张伟", 3, 3, 0, "", "",
                                "缺时间、记录")],
    }


TITLE = LedgerTitle("机关第一党支部", date(2023, 10, 1), date(2023, 10, 31), date(2023, 11, 2))


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "台账.xlsx"
    write_ledger(T, path, TITLE, **ledger_rows())  # type: ignore[arg-type]
    return path


# --- dates and small pieces ------------------------------------------------------------------

def test_dates_read_as_in_official_papers() -> None:
    assert document_date(date(2023, 11, 9)) == "2023年11月9日"
    assert document_period(date(2023, 10, 1), date(2023, 10, 31)) == "2023年10月1日至10月31日"
    assert document_period(date(2023, 12, 20), date(2024, 1, 5)) == "2023年12月20日至2024年1月5日"


def test_shares_never_claim_everyone_or_no_one_wrongly() -> None:
    assert share(T, 9, 10) == "90%"
    assert share(T, 199, 200) == "99%"
    assert share(T, 1, 1000) == "1%"
    assert share(T, 0, 5) == "0%"
    assert share(T, 5, 5) == "100%"
    assert share(T, 1, 0) == "—"
    assert [numeral(n) for n in (1, 10, 12, 20, 35)] == ["一", "十", "十二", "二十", "三十五"]


# --- the Word layout -------------------------------------------------------------------------

def test_stage_summary_has_the_official_page_styles_and_fonts() -> None:
    doc = Document(io.BytesIO(drafts.render_stage_summary(T, office_context())))
    section = doc.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.5) and abs(section.page_height - Mm(297)) < Mm(0.5)
    for measured, wanted in ((section.top_margin, 37), (section.bottom_margin, 35),
                             (section.left_margin, 28), (section.right_margin, 26)):
        assert abs(measured - Mm(wanted)) < Mm(0.2)

    body = doc.styles["公文正文"]
    assert body.font.size == Pt(16)
    assert body.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert body.paragraph_format.first_line_indent == Pt(32)
    assert body.element.pPr.ind.get(qn("w:firstLineChars")) == "200"
    assert body.paragraph_format.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert body.paragraph_format.line_spacing == Pt(28)

    paragraphs = doc.paragraphs
    title = paragraphs[0]
    assert title.text == "局主题教育工作阶段性总结"
    assert title.style.name == "公文标题" and title.alignment in (None, WD_ALIGN_PARAGRAPH.CENTER)
    assert title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.style.font.size == Pt(22)
    assert title.style.element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert title.style.element.pPr.ind.get(qn("w:firstLineChars")) == "0"
    assert paragraphs[1].text == "（2023年11月9日）"

    by_text = {p.text: p for p in paragraphs}
    h1, h2 = by_text["一、总体开展情况"], by_text["（一）开展理论学习"]
    assert h1.style.name == "公文一级标题" and h1.style.element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    assert h2.style.name == "公文二级标题" and h2.style.element.rPr.rFonts.get(qn("w:eastAsia")) == "楷体_GB2312"
    lead = next(p for p in paragraphs if p.text.startswith("1．开展集中学习。"))
    assert lead.runs[0].style.name == "公文三级标题字符" and lead.runs[0].style.font.bold
    assert lead.runs[0].style.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    gap = next(p for p in paragraphs if p.text.startswith("（一）工作进展不平衡。"))
    assert gap.runs[0].style.name == "公文二级标题字符"

    # Nothing in Word's blue heading styles; none of ours has a colour or a theme font.
    assert not [p.text for p in paragraphs if p.style.name.lower().startswith(("heading", "title"))]
    for style in doc.styles:
        if style.name.startswith("公文"):
            assert style.font.color.rgb is None, style.name
            fonts = style.element.rPr.rFonts
            assert fonts.get(qn("w:eastAsiaTheme")) is None and fonts.get(qn("w:asciiTheme")) is None


def test_the_document_declares_simplified_chinese_and_the_font_substitutes() -> None:
    data = drafts.render_stage_summary(T, office_context())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        styles, font_table = z.read("word/styles.xml").decode(), z.read("word/fontTable.xml").decode()
    assert 'w:eastAsia="zh-CN"' in styles
    for name, alt in (("仿宋_GB2312", "仿宋"), ("方正小标宋简体", "宋体"), ("楷体_GB2312", "楷体"), ("黑体", "SimHei")):
        assert re.search(rf'<w:font w:name="{name}"><w:altName w:val="{alt}"/>', font_table), name
    assert "NotoSerifCJK" not in font_table  # look-alikes are LibreOffice's business, not the document's


def test_footer_has_the_page_field_between_dashes_on_the_outer_side() -> None:
    doc = Document(io.BytesIO(drafts.render_stage_summary(T, office_context())))
    assert doc.settings.odd_and_even_pages_header_footer
    section = doc.sections[0]
    for footer, alignment in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                              (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        paragraph = footer.paragraphs[0]
        assert paragraph.text == "— 1 —"
        assert paragraph.alignment == alignment
        codes = [node.text for node in paragraph._p.iter(qn("w:instrText"))]
        assert [c.strip() for c in codes] == ["PAGE"]
        kinds = [node.get(qn("w:fldCharType")) for node in paragraph._p.iter(qn("w:fldChar"))]
        assert kinds == ["begin", "separate", "end"]
        assert paragraph.style.font.size == Pt(14)
        assert paragraph.style.element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"


def test_the_shipped_templates_are_what_the_generator_makes(tmp_path: Path) -> None:
    for made in build_templates.build(tmp_path):
        shipped = drafts.PACKAGE_TEMPLATES / made.name
        with zipfile.ZipFile(made) as fresh, zipfile.ZipFile(shipped) as committed:
            for part in ("word/document.xml", "word/styles.xml", "word/fontTable.xml", "word/settings.xml"):
                assert fresh.read(part) == committed.read(part), (made.name, part)


def test_a_table_in_an_official_document_has_its_widths_borders_and_repeated_header() -> None:
    doc = official_docx.new_document()
    official_docx.add_table(doc, ["支部", "参与率"], [["机关第一党支部", "90%"]], [3, 1])
    saved = Document(io.BytesIO(official_docx.to_bytes(doc)))
    table = saved.tables[0]
    grid = [int(col.get(qn("w:w"))) for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert abs(grid[0] / grid[1] - 3) < 0.01
    assert abs(sum(grid) * 635 - official_docx.TEXT_WIDTH) < Mm(1)
    assert table._tbl.tblPr.find(qn("w:tblBorders")) is not None
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert table.rows[0].cells[0].paragraphs[0].runs[0].bold


# --- what the drafts say -----------------------------------------------------------------------

def test_the_office_draft_carries_seed_000s_figures() -> None:
    text = text_of(drafts.render_stage_summary(T, office_context()))
    for phrase in ("局主题教育自2023年9月15日启动以来", "6个基层党组织全部开展了学习或调研走访",
                   "依托“三会一课”、主题党日累计开展学习146次", "中心组学习2次", "联组学习2次",
                   "已举办读书班集中学习5.5天", "计划7天，尚余1.5天", "已连续7周开展述学",
                   "实现“双讲双听”全覆盖", "确定调研课题34个", "开展课题调研75次", "结对居村59个，第一轮走访已全覆盖",
                   "累计开展调研走访152次", "帮助企业群众解决问题65个", "问题清单共13个问题", "制定整改措施41条",
                   "提请销项2个（其中已销号2个），整改率17%", "召开组织生活会议59次（支部党员大会12次"):
        assert phrase in text, phrase
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)  # dates as 2023年11月9日


def test_the_office_draft_names_the_slowest_branches_and_the_gaps() -> None:
    text = text_of(drafts.render_stage_summary(T, office_context()))
    shortfalls = text[text.index("三、存在不足"):text.index("四、下一步计划")]
    assert "离退休党支部（参与率22%，人均学习0.7小时，调研走访0次）" in shortfalls
    assert shortfalls.index("离退休党支部") < shortfalls.index("机关第二党支部") < shortfalls.index("执法大队党支部")
    assert "2个支部本期没有开展述学：机关第二党支部、离退休党支部" in shortfalls
    assert "机关第二党支部2023年10月12日支委会缺议题、记录" in shortfalls
    assert "2人次缺席会议后尚未补课补学（周强、吴敏）" in shortfalls
    assert "2个问题已超过整改时限仍未销号（机关第二党支部1个、执法大队党支部1个）" in shortfalls
    assert "1个已销号问题出现回潮" in shortfalls
    plan = text[text.index("四、下一步计划"):]
    assert plan.index("2023年11月15日前完成读书班全部7天集中学习") < plan.index("2023年11月21日前完成调研课题结题")
    assert "已经过去的节点" not in plan
    assert "附：各支部进度对照" in text


def test_the_problems_in_rectification_add_up_to_those_accepted() -> None:
    """正在整改 and 提请销项 make up the 已确认: the closed ones are among the 提请销项, said as such,
    never a third count a reader would add to the other two."""
    problems = ProblemFigures(listed=6, pending=1, rectifying=3, awaiting_closure=1, closure_requested=2,
                              closed=1)
    text = text_of(drafts.render_stage_summary(T, branch_context(problems=problems)))
    assert "已确认整改5个，正在整改3个，提请销项2个（其中已销号1个），整改率20%" in text
    # A closed problem that came back (回潮) is no longer asked for closure: its 销号 stands alone.
    reopened = ProblemFigures(listed=3, rectifying=2, closed=1, reopened=1)
    text = text_of(drafts.render_stage_summary(T, branch_context(problems=reopened)))
    assert "正在整改2个，已销号1个，整改率33%" in text and "提请销项" not in text


def test_a_draft_claims_nothing_its_figures_contradict() -> None:
    text = text_of(drafts.render_stage_summary(T, branch_context()))
    assert "全体10名党员均登记了学习或调研走访" in text
    for contradiction in ("补课补学", "未登记的党员", "销号一个", "整改率", "全覆盖", "各级党组织", "附：各支部"):
        assert contradiction not in text, contradiction
    assert "尚无问题销号" in text
    assert "（一）部分工作尚未开展。本期没有调研走访、组织生活会议的登记记录。" in text  # not "未发现明显短板"
    assert "未发现明显短板" not in text
    # With lectures short of every secretary, no 全覆盖; with visits short of every village, none either.
    office = office_context(
        study=StudyFigures(lectures=3, lecturers=("王书记",), secretaries=6, shuxue_answers=2, shuxue_streak=1),
        research=ResearchFigures(paired_villages=59, covered_villages=40, round_name="第一轮",
                                 round_due=date(2023, 10, 31)),
        problems=ProblemFigures(listed=3, rectifying=3))
    text = text_of(drafts.render_stage_summary(T, office))
    assert "“双讲双听”全覆盖" not in text and "走访已全覆盖" not in text and "连续" not in text
    assert "1名支部书记已讲党课（王书记），尚有5名支部书记未讲" in text
    assert "第一轮已走访40个，尚有19个未走访" in text
    assert "结对居村第一轮走访应于2023年10月31日前全覆盖，目前尚有19个居村未走访" in text
    assert "销号一个" not in text


def test_an_empty_period_says_so_instead_of_inventing() -> None:
    empty = StageSummaryContext(scope=DraftScope.branch, organisation="新支部", period_start=date(2023, 10, 1),
                                period_end=date(2023, 10, 31), written_on=date(2023, 11, 1), members=3)
    text = text_of(drafts.render_stage_summary(T, empty))
    for phrase in ("3名党员尚无一人登记学习或调研走访", "本期没有理论学习的登记记录", "本期没有调查研究的登记记录",
                   "问题清单中尚未登记问题", "本期没有组织生活的登记记录", "本期支部没有开展述学"):
        assert phrase in text, phrase
    assert "人均" not in text and "整改率" not in text


def test_a_members_draft_is_a_personal_study_summary() -> None:
    text = text_of(drafts.render_personal_summary(T, member_context()))
    assert text.startswith("李娜主题教育个人学习总结")
    assert "本人累计学习6.5小时，其中自学4小时、三会一课2.5小时，达到同期2.7小时的学时要求" in text
    assert "每期按时参加述学" in text
    for branch_talk in ("共有党员", "参与率", "名党员", "督促", "补课补学"):
        assert branch_talk not in text, branch_talk
    behind = member_context(hours=1.0, hours_by_form={"自学": 1.0}, target_hours=2.7, shuxue_answers=2,
                            meetings_missed=(MeetingRef(date(2023, 10, 12), "支部党员大会"),), visits=0,
                            commitment="义务讲解垃圾分类")
    text = text_of(drafts.render_personal_summary(T, behind))
    for phrase in ("同期学时要求为2.7小时，尚差1.7小时", "有1次会议缺席后尚未补课补学（2023年10月12日支部党员大会）",
                   "有2期述学没有参加", "本期没有登记调研走访", "尽快完成1次会议的补课补学", "继续践行公开承诺"):
        assert phrase in text, phrase


# --- templates: the office's own wording -------------------------------------------------------

def office_template(*paragraphs: str) -> bytes:
    doc = official_docx.new_document()
    for text in paragraphs:
        official_docx.add_body(doc, text)
    return official_docx.to_bytes(doc)


def test_an_offices_own_template_is_rendered_with_our_figures() -> None:
    template = office_template("我局开展调研走访{{ figures.visits }}次，整改率{{ figures.rectification_rate }}。",
                               "{%p for b in branches %}", "{{ b.name }}：{{ b.participation }}", "{%p endfor %}",
                               "{% if figures.problems_reopened %}有回潮问题。{% endif %}")
    text = text_of(drafts.render_stage_summary(T, office_context(), template=template))
    assert "我局开展调研走访152次，整改率17%。" in text
    assert "离退休党支部：22%" in text and "机关第一党支部：100%" in text
    assert "有回潮问题。" in text


def test_a_template_error_names_the_placeholder_and_the_paragraph() -> None:
    bad = office_template("第一段", "第二段", "调研走访{{ figures.vists }}次")
    with pytest.raises(TemplateProblem) as caught:
        drafts.render_stage_summary(T, office_context(), template=bad)
    message = str(caught.value)
    assert "第 3 段" in message and "{{ figures.vists }}" in message and "“vists”不是可用的占位符" in message

    unknown = office_template("{{ figurs.visits }}")
    with pytest.raises(TemplateProblem, match="第 1 段.*“figurs”不是可用的占位符"):
        drafts.render_stage_summary(T, office_context(), template=unknown)

    unclosed = office_template("标题", "{%p for p in study %}", "{{ p.text }}", "结尾")
    with pytest.raises(TemplateProblem) as caught:
        drafts.render_stage_summary(T, office_context(), template=unclosed)
    assert "第 2 段" in str(caught.value) and "没有对应的结束标记" in str(caught.value)

    typo = office_template("{% fro p in study %}")
    with pytest.raises(TemplateProblem, match="第 1 段.*无法识别"):
        drafts.render_stage_summary(T, office_context(), template=typo)

    crowded = office_template("开头", "{%p if figures.visits %}有走访。{%p endif %}")
    with pytest.raises(TemplateProblem, match="第 2 段.*要单独成一段"):
        drafts.render_stage_summary(T, office_context(), template=crowded)


def test_a_template_cannot_reach_python_and_text_is_escaped() -> None:
    sneaky = office_template("{{ figures.__class__.__mro__ }}")
    with pytest.raises(TemplateProblem):
        drafts.render_stage_summary(T, office_context(), template=sneaky)
    with pytest.raises(TemplateProblem, match="无法打开"):
        drafts.render_stage_summary(T, office_context(), template=b"not a docx")
    odd = office_context(organisation="A&B<局>")
    assert text_of(drafts.render_stage_summary(T, odd)).startswith("A&B<局>主题教育工作阶段性总结")


def _documented(section: str) -> set[str]:
    text = (Path(drafts.__file__).parent / "TEMPLATES.md").read_text(encoding="utf-8")
    part = text.split(section, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", part, re.M))


def _placeholders(context: dict[str, object]) -> set[str]:
    names = set()
    for key, value in context.items():
        if key == "figures":
            names |= {f"figures.{name}" for name in value}  # type: ignore[union-attr]
            continue
        names.add(key)
        if isinstance(value, list) and value and isinstance(value[0], dict) and set(value[0]) != {"lead", "text"}:
            names |= {f"{key}[].{name}" for name in value[0]}
    return names


def test_every_placeholder_is_documented_and_every_documented_one_exists() -> None:
    assert _placeholders(drafts.stage_context(T, office_context())) == _documented("## 阶段性总结")
    assert _placeholders(drafts.personal_context(T, member_context())) == _documented("## 个人学习总结")


# --- the Excel ledger --------------------------------------------------------------------------

def test_problem_numbers_are_per_branch() -> None:
    assert problem_number("机关第一党支部", 1) == "机关一-001"
    assert problem_number("监测站党支部", 12) == "监测站-012"
    assert problem_number("党支部", 3) == "党支部-003"


def test_every_sheet_prints_a4_landscape_one_page_wide_with_its_header_on_every_page(ledger: Path) -> None:
    book = openpyxl.load_workbook(ledger)
    assert book.sheetnames == ["汇总", "学习台账", "调研走访台账", "问题清单", "承诺践诺", "述学记录", "组织生活"]
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == 9, sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        # fitToWidth is left out when 1 (the schema's default); 0 pages tall: as many as it takes.
        assert int(setup.fitToWidth or 1) == 1
        # 0 pages tall: as many as it takes; 汇总 one page whole (1, left out as the default)
        assert (1 if setup.fitToHeight is None else int(setup.fitToHeight)) == (sheet.title == "汇总")
        assert sheet.print_title_rows == "$1:$3"
        assert sheet.freeze_panes == "A4"
        assert "第 &P 页" in sheet.oddFooter.center.text
        assert sheet["A1"].value == f"机关第一党支部{'台账汇总' if sheet.title == '汇总' else sheet.title}"
        assert sheet["A1"].font.b and any(str(r).startswith("A1:") for r in sheet.merged_cells.ranges)
        assert sheet["A2"].value == "统计期间：2023年10月1日至10月31日　　制表日期：2023年11月2日"
        header = sheet[3]
        assert header[0].value == "序号"
        for cell in header:
            assert cell.font.b and cell.border.left.style == "thin" and cell.border.bottom.style == "thin"
            assert cell.alignment.wrap_text


def test_ledger_cells_are_typed_numbered_wrapped_and_totalled(ledger: Path) -> None:
    book = openpyxl.load_workbook(ledger)
    study = book["学习台账"]
    rows = list(study.iter_rows(min_row=4, values_only=False))
    data, totals = rows[:-1], rows[-1]
    assert [r[0].value for r in data] == list(range(1, len(data) + 1))
    assert data[0][1].is_date and data[0][1].number_format == "yyyy-mm-dd"
    assert data[0][4].number_format == "0.0"
    days = [r[1].value for r in data]
    assert days == sorted(days)
    assert data[0][5].alignment.wrap_text and data[0][5].border.right.style == "thin"
    long_row = study.row_dimensions[4].height
    short_row = study.row_dimensions[5].height  # a short content, half the reflection
    assert long_row > short_row
    assert totals[0].value == "合计" and totals[1].value == f"共{len(data)}条"
    assert totals[4].value == f"=SUM(E4:E{3 + len(data)})"

    problems = book["问题清单"]
    numbers = [problems.cell(row, 2).value for row in range(4, 9)]
    assert numbers == [f"机关一-00{i}" for i in range(1, 6)]
    headers = [c.value for c in problems[3]]
    percent = headers.index("完成\n比例") + 1
    assert problems.cell(4, percent).number_format == "0%" and problems.cell(4, percent).value == 0.6
    assert problems.cell(8, headers.index("回潮") + 1).value == "是"
    assert problems.cell(4, headers.index("销号日期") + 1).value is None  # not closed: no 销号日期

    meetings = book["组织生活"]
    headers = [c.value for c in meetings[3]]
    for column in ("起止时间", "地点", "记录人", "应到", "实到", "列席", "缺席及原因", "补学情况", "四必有"):
        assert column in headers, column
    assert meetings.cell(4, headers.index("起止时间") + 1).value == "14:30—16:30"
    assert meetings.cell(6, headers.index("应到") + 1).value == "=SUM(I4:I5)"

    summary = book["汇总"]
    rate = next(r for r in summary.iter_rows(min_row=4) if r[1].value == "整改率")
    assert rate[2].value == pytest.approx(1 / 3) and rate[2].number_format == "0%"

    deeds = book["承诺践诺"].cell(4, 6)
    assert deeds.data_type == "s" and deeds.value.startswith("=HYPERLINK")  # text, never a formula


def test_rows_out_of_date_order_are_refused(tmp_path: Path) -> None:
    rows = ledger_rows()["study"]
    with pytest.raises(ValueError, match="comes before"):
        write_ledger(T, tmp_path / "x.xlsx", TITLE, study=list(reversed(rows)))  # type: ignore[arg-type]


def test_row_heights_follow_the_wrapped_text() -> None:
    assert lines_needed("短", 10) == 1
    assert lines_needed("学" * 40, 20) == 5  # 40 characters of 2 units in 19 usable units
    assert lines_needed("一行\n两行", 30) == 2


# --- charts ------------------------------------------------------------------------------------

def test_weekly_chart_bars_integer_ticks_weeks_and_the_partial_week() -> None:
    weeks = charts.mondays(date(2023, 10, 11), date(2023, 11, 8))
    assert weeks[0] == date(2023, 10, 9) and weeks[-1] == date(2023, 11, 6)
    series = (charts.WeeklySeries("机关第一党支部", {weeks[0]: 2.5, weeks[-1]: 1.0}, {weeks[0]: 1, weeks[1]: 3}),
              charts.WeeklySeries("机关第二党支部", {weeks[0]: 2.5}, {weeks[0]: 1}))
    fig = charts.weekly_figure(T, charts.WeeklyChart("局", weeks, series, today=date(2023, 11, 8)))
    hours, visits = fig.axes[:2]
    assert [label.get_text() for label in visits.get_xticklabels()] == ["10月9日周", "10月16日周", "10月23日周",
                                                                       "10月30日周", "11月6日周"]
    assert visits.get_ylim()[0] == 0 and hours.get_ylim()[0] == 0
    assert all(float(tick).is_integer() for tick in visits.get_yticks())
    containers = visits.containers
    assert len(containers) == 2  # both series, side by side: the same value is not hidden
    first, second = (c.patches[0] for c in containers)
    assert first.get_height() == second.get_height() == 1 and first.get_x() != second.get_x()
    assert containers[0].patches[-1].get_hatch() == "///" and containers[0].patches[0].get_hatch() is None
    assert "尚未结束" in hours.get_title(loc="right")
    assert charts.weekly_png(T, charts.WeeklyChart("局", weeks, series, date(2023, 11, 8))).startswith(b"\x89PNG")


def test_a_members_chart_is_titled_with_the_member_and_has_no_branch_legend() -> None:
    weeks = charts.mondays(date(2023, 10, 2), date(2023, 10, 29))
    me = charts.WeeklySeries("李娜", {weeks[0]: 1.5}, {})
    fig = charts.weekly_figure(T, charts.WeeklyChart("李娜", weeks, (me,), today=date(2023, 11, 2)))
    assert "李娜" in fig.get_suptitle()
    assert not fig.legends and all(ax.get_legend() is None for ax in fig.axes)
    assert fig.axes[0].get_title(loc="right") == ""  # every week complete: nothing marked


def test_office_chart_sorts_branches_by_participation_with_the_problem_funnel() -> None:
    branches = [charts.BranchProgress("冷支部", 10, 2, 4, 3, 0), charts.BranchProgress("热支部", 5, 5, 2, 2, 2),
                charts.BranchProgress("温支部", 8, 5, 1, 1, 1)]
    fig = charts.office_figure(T, "局", "2023年10月", branches)
    left, right = fig.axes[:2]
    assert [label.get_text() for label in left.get_yticklabels()] == ["热支部", "温支部", "冷支部"]
    assert len(right.containers) == 3  # found → accepted → closed
    assert [p.get_width() for p in right.containers[0].patches] == [2, 1, 4]
    assert all(float(tick).is_integer() for tick in right.get_xticks())


# --- LibreOffice: page counts and what prints --------------------------------------------------

TZ = ZoneInfo("Asia/Shanghai")


def _needs_soffice() -> None:
    if pdf.soffice() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is missing: .ci/run installs libreoffice-writer and libreoffice-calc")
        pytest.skip("LibreOffice (soffice) is not installed here: apt-get install libreoffice-writer libreoffice-calc")


def _pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(path).pages]


def test_libreoffice_prints_the_office_draft_on_two_to_six_a4_pages(tmp_path: Path) -> None:
    _needs_soffice()
    source = tmp_path / "总结.docx"
    source.write_bytes(drafts.render_stage_summary(T, office_context()))
    printed = pdf.to_pdf(source, tmp_path)
    from pypdf import PdfReader

    reader = PdfReader(printed)
    assert 2 <= len(reader.pages) <= 6
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 1 and abs(float(box.height) - 841.9) < 1
    text = "".join(_pages(printed))
    assert "— 2 —" in text or "—2—" in text.replace(" ", "")
    fonts = {str(font) for page in reader.pages for font in page["/Resources"]["/Font"].values()
             for font in [font.get_object()["/BaseFont"]]}
    assert any("CJK" in name or "UKai" in name for name in fonts), fonts  # CJK glyphs, not boxes
    member = tmp_path / "个人.docx"
    member.write_bytes(drafts.render_personal_summary(T, member_context()))
    assert 1 <= len(PdfReader(pdf.to_pdf(member, tmp_path)).pages) <= 2


def test_libreoffice_prints_each_ledger_sheet_one_page_wide(ledger: Path, tmp_path: Path) -> None:
    _needs_soffice()
    pages = _pages(pdf.to_pdf(ledger, tmp_path / "pdf"))
    book = openpyxl.load_workbook(ledger)
    seen: dict[str, int] = {}
    for page in pages:
        title = next(sheet.title for sheet in book.worksheets if str(sheet["A1"].value) in page)
        sheet = book[title]
        last_header = sheet.cell(3, sheet.max_column).value
        # The header row is repeated on every page, and its last column is on the same page as
        # its first: nothing is split off to a page of its own.
        assert "序号" in page and str(last_header) in page, (title, page[:200])
        seen[title] = seen.get(title, 0) + 1
    assert set(seen) == set(book.sheetnames)
    assert seen["组织生活"] == 1 and seen["问题清单"] == 1


def test_the_fontconfig_rules_map_every_official_font() -> None:
    rules = fontconfig_rules()
    for name in ("仿宋_GB2312", "方正小标宋简体", "楷体_GB2312", "黑体", "宋体"):
        assert f"<string>{name}</string>" in rules
    assert "Noto Serif CJK SC" in rules and "AR PL UKai CN" in rules


# --- the papers /report and branchbot report make from a database ---------------------------

async def _produced(app: App, request: Request) -> dict[str, bytes]:
    files = {}
    async for item in produce(session_factory(app.engine), request):
        assert not isinstance(item, Refused), item
        if isinstance(item, Made):
            files[item.document.file_name] = item.document.content
    return files


def _one(files: dict[str, bytes], suffix: str) -> bytes:
    (content,) = [c for name, c in files.items() if name.endswith(suffix)]
    return content


def _each_sheet_one_page_wide(ledger: Path, pages: list[str]) -> dict[str, int]:
    """Every page carries its sheet's header row whole (序号 … the last column): no column is split
    off to a page of its own. Returns the pages per sheet."""
    book = openpyxl.load_workbook(ledger)
    seen: dict[str, int] = {}
    for page in pages:
        title = next(sheet.title for sheet in book.worksheets if str(sheet["A1"].value) in page)
        sheet = book[title]
        last_header = str(sheet.cell(3, sheet.max_column).value).split("\n")[0]
        assert "序号" in page and last_header in page, (title, page[:200])
        seen[title] = seen.get(title, 0) + 1
    assert set(seen) == set(book.sheetnames)
    return seen


async def test_the_demo_branchs_ledger_prints_each_sheet_one_page_wide(app: App, tmp_path: Path) -> None:
    _needs_soffice()
    today = date(2026, 12, 1)
    async with session_factory(app.engine)() as session, session.begin():
        await create_demo(session, today)
        org = await OrgRepository(session).by_name("机关第一党支部")
    assert org is not None
    period = Period(today - timedelta(days=30), today, "campaign")
    files = await _produced(app, Request(Scope((org.id,)), org.name, period, TZ, ("xlsx", "docx"),
                                         texts=T, today=today))
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(_one(files, ".xlsx"))
    seen = _each_sheet_one_page_wide(ledger, _pages(pdf.to_pdf(ledger, tmp_path / "pdf")))
    assert seen["组织生活"] == 1 and seen["问题清单"] == 1 and seen["汇总"] == 1
    book = openpyxl.load_workbook(ledger)
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and int(sheet.page_setup.fitToWidth or 1) == 1
        assert sheet.print_title_rows == "$1:$3"
    meetings = [row[1:] for row in book["组织生活"].iter_rows(min_row=4, values_only=True) if row[0] != "合计"]
    lecture = next(row for row in meetings if row[2] == "党课")
    assert lecture[1] == "14:30—16:00" and lecture[3] == "党员活动室" and lecture[6] == "王建国"
    assert lecture[7:10] == (6, 5, 0) and lecture[10] == "刘洋（公差）" and lecture[11] == "刘洋未补学"
    problems = [row[1:] for row in book["问题清单"].iter_rows(min_row=4, values_only=True) if row[0] != "合计"]
    assert [row[0] for row in problems] == [f"机关一-{i:03d}" for i in range(1, len(problems) + 1)]
    text = text_of(_one(files, ".docx"))
    assert "刘洋" in text and "孙晓" in text  # the make-up outstanding, the member with no record


async def test_seed_000s_office_draft_from_the_database(app: App, tmp_path: Path) -> None:
    async with session_factory(app.engine)() as session, session.begin():
        await seed000.build(session)
    period = Period(seed000.START, seed000.TODAY, "campaign")
    files = await _produced(app, Request(Scope(None), "局", period, seed000.TZ, ("docx", "png"),
                                         side_by_side=True, texts=T, today=seed000.TODAY))
    content = _one(files, "阶段性总结_20230915-20231109.docx")
    text = text_of(content)
    for figure in ("依托“三会一课”、主题党日累计开展学习146次", "中心组学习2次", "联组学习2次",
                   "已举办读书班集中学习5.5天", "计划7天", "已连续7周开展述学", "调研课题34个",
                   "课题调研75次", "累计开展调研走访152次", "帮助企业群众解决问题65个",
                   "结对居村59个", "问题清单共13个问题", "提请销项2个", "已销号2个", "整改措施33条", "6名支部书记均已讲党课"):
        assert figure in text, figure
    shortfalls = text[text.index("三、存在不足"):text.index("四、下一步计划")]
    assert "回潮" in shortfalls and "2个待确认" not in shortfalls
    plan = text[text.index("四、下一步计划"):]
    assert "尽快确认2个待确认的问题" in plan and "对1个回潮问题重新整改" in plan
    # everyone reported, nobody missed a meeting: nobody to chase; the branches behind are named
    assert "尚未登记的党员" not in text and "补课补学" not in text and "参与率100%" not in text.split("三、")[0]
    assert "进度较慢的是：事业单位党支部（人均学习18小时，调研走访16次）" in shortfalls
    assert "人均学习最多的是局机关党支部（62.8小时），最少的是事业单位党支部（18小时）" in text
    doc = Document(io.BytesIO(content))
    section = doc.sections[0]
    assert [round(length.mm) for length in (section.page_width, section.page_height, section.top_margin,
                                            section.bottom_margin, section.left_margin,
                                            section.right_margin)] == [210, 297, 37, 35, 28, 26]
    assert _one(files, "各支部对照_20230915-20231109.png").startswith(b"\x89PNG")
    if pdf.soffice() is None:
        return
    source = tmp_path / "总结.docx"
    source.write_bytes(content)
    from pypdf import PdfReader

    assert 2 <= len(PdfReader(pdf.to_pdf(source, tmp_path)).pages) <= 6
