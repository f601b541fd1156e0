"""Blank files for the office to fill in (``/template``): each sheet's header row, as the imports
read it, and the calendar's format with its fields explained."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

CALENDAR = """# 主题教育日历（填好后发给机器人，或 branchbot calendar load 本文件）
# 法定节假日和调休上班日无需填写，机器人自动识别。日期写成 2023-11-09。

[campaign]                      # 主题教育起止日期（“全程”从 start 算起）
name = "主题教育"
start = 2023-09-15
end = 2024-01-31                # 可不填
reading_class_days = 7          # 读书班目标天数，可不填

[[milestone]]                   # 时间节点，可写多个
key = "dushuban"                # 节点编号，每个节点不同
name = "读书班结束"
date = 2023-11-15
remind_days = [7, 3, 1, 0]      # 提前几天提醒；0 为当天

[[holiday]]                     # 法定节假日以外的放假日，可不填
date = 2023-11-24
name = "单位调休"

[[schedule]]                    # 支部的述学安排，可不填
branch = "机关第一党支部"
weekday = "周一"
time = "09:00"
every_weeks = 1                 # 1 每周，2 每两周
"""


def _sheet(title: str, headers: tuple[str, ...]) -> Callable[[], bytes]:
    def build() -> bytes:
        from openpyxl import Workbook
        from openpyxl.utils import get_column_letter

        book = Workbook()
        sheet = book.active
        sheet.title = title
        sheet.append(list(headers))
        for i, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(12, len(header) * 3)
        sheet.freeze_panes = "A2"
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    return build


@dataclass(frozen=True)
class Template:
    file_name: str
    content: Callable[[], bytes]


TEMPLATES: dict[str, Template] = {
    "名册": Template("名册模板.xlsx", _sheet("名册", ("姓名", "支部", "角色", "党小组", "企业微信账号",
                                                 "钉钉账号", "飞书账号", "Telegram", "手机号"))),
    "结对": Template("结对名单模板.xlsx", _sheet("结对名单", ("支部", "姓名", "结对居村"))),
    "课题": Template("调研课题模板.xlsx", _sheet("调研课题", ("支部", "课题", "负责人", "结题日期"))),
    "述学": Template("述学记录模板.xlsx", _sheet("述学记录", ("支部", "姓名", "述学日期", "自学情况", "调研情况",
                                                     "为民办实事情况"))),
    "日历": Template("主题教育日历.toml", lambda: CALENDAR.encode("utf-8")),
}
