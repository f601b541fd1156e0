"""How replies look in WeCom: cards where they fit, numbered text where not, texts within
WeCom's 2048 bytes, robots without buttons."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.wecom.render import (
    card,
    fits_card,
    following,
    numbered,
    pieces,
    robot_texts,
)
from handlers.core.events import Answered, Button, Reply
from handlers.core.i18n import DEFAULT_TEXTS as t


def _reply(text: str, count: int) -> Reply:
    return Reply(text, buttons=(tuple(Button(f"选项{i}", data=f"d:n:{i}") for i in range(count)),))


def test_cards_where_they_fit() -> None:
    assert fits_card(_reply("哪天学习的？", 6))
    assert not fits_card(_reply("哪天学习的？", 7))  # a card shows six buttons
    assert not fits_card(_reply("问" * 37, 2))  # the title line is too long
    assert not fits_card(_reply("请核对：\n" + "字" * 113, 2))
    assert not fits_card(Reply("x", buttons=((Button("a", data="d" * 1025),),)))
    assert not fits_card(Reply("没有按钮"))
    shown = card("LiNa", Reply("请核对：\n时长：1小时", buttons=((Button("开始", start="shuxue"),),)))
    template = shown["template_card"]
    assert template["main_title"] == {"title": "请核对："} and template["sub_title_text"] == "时长：1小时"
    assert template["button_list"] == [{"text": "开始", "style": 1, "key": "/start shuxue"}]


def test_numbered_text_shows_the_cores_selectors_and_keeps_no_list() -> None:
    letters = Reply("哪天学习的？", buttons=((Button("今天", data="d:n:0", selector="A"),
                                              Button("取消", data="d:n:x", selector="B")),))
    assert numbered(t, letters).splitlines()[-3:] == ["[A] 今天", "[B] 取消", t("select.letters")]
    listing = Reply("1. 问题一\n2. 问题二", buttons=((Button("1", data="d:n:0", selector="1"),
                                                  Button("返回", data="d:n:1", selector="3")),))
    assert numbered(t, listing).splitlines()[-3:] == ["[1]", "[3] 返回", t("select.numbers")]
    push = Reply("述学", buttons=((Button("填写述学", start="shuxue", selector="#1"),),))
    assert numbered(t, push).splitlines()[-2:] == ["[#1] 填写述学", t("select.push")]


def test_a_pressed_message_is_split_into_answer_and_what_follows() -> None:
    rest = following(Reply("学习了多长时间？", answered=Answered("哪天学习的？", "今天"), edit=True))
    assert rest is not None and rest.text == "学习了多长时间？" and rest.answered is None
    assert following(Reply(answered=Answered("哪天？", "今天"), edit=True)) is None
    plain = Reply("已保存", edit=True)
    assert following(plain) == plain


def test_a_robot_gets_an_instruction_instead_of_a_button() -> None:
    (message,) = robot_texts(t, Reply("本周述学开始了", buttons=((Button("填写述学", start="shuxue"),),)))
    assert message["text"]["content"].splitlines() == [
        "本周述学开始了", t("wecom.robot_start", label="填写述学", command="/start shuxue")]


@given(st.text(alphabet=st.sampled_from("述学ab\n 😀"), max_size=3000),
       st.integers(min_value=8, max_value=2048))
def test_pieces_fit_and_lose_nothing(content: str, limit: int) -> None:
    parts = pieces(content, limit)
    assert all(len(part.encode()) <= limit for part in parts) or parts == [content]
    assert "".join("".join(parts).split()) == "".join(content.split())
    assert len(parts) == 1 or all(part.strip() for part in parts)
    if len(content.encode()) <= limit:
        assert parts == [content]
