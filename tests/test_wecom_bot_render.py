"""How replies look through the AI bot: cards where they fit (a long one-line text cut after its
first sentence for the title), numbered markdown where they do not, pieces within 4,096 bytes,
a document as a line saying where to get it, the answered card."""

from __future__ import annotations

from bot.adapters.wecom_bot.outgoing import MARKDOWN_BYTES, TemplateCard
from bot.adapters.wecom_bot.render import DONE_KEY, answered_card, parts
from handlers.core.events import Answered, Button, OutDocument, Reply
from handlers.core.i18n import DEFAULT_TEXTS as t


def test_a_short_question_with_buttons_is_a_card() -> None:
    (card,) = parts(t, Reply("哪天学习的？", buttons=((Button("今天", data="d:1:0"),
                                                    Button("昨天", data="d:1:1")),)))
    assert isinstance(card, TemplateCard) and card.title == "哪天学习的？"
    assert [(b.text, b.key) for b in card.buttons] == [("今天", "d:1:0"), ("昨天", "d:1:1")]


def test_a_long_prompt_is_cut_after_its_first_sentence() -> None:
    text = t("push.shuxue_prompt", period="12月1日")
    (card,) = parts(t, Reply(text, buttons=((Button("填写述学", start="shuxue"),),)))
    assert isinstance(card, TemplateCard)
    assert card.title == "📣 本周述学（12月1日）开始了。" and card.sub_title.startswith("请点下方按钮")
    assert card.buttons[0].key == "/start shuxue"


def test_many_buttons_are_numbered_text_and_long_text_comes_in_pieces() -> None:
    buttons = tuple((Button(f"选项{i}", data=f"d:1:{i}", selector=str(i)),) for i in range(1, 9))
    (text,) = parts(t, Reply("请选择：", buttons=buttons))
    assert isinstance(text, str) and "[8] 选项8" in text
    long = "\n".join(f"第{i}行：" + "字" * 100 for i in range(60))
    pieces = parts(t, Reply(long))
    assert len(pieces) > 1 and all(isinstance(p, str) and len(p.encode()) <= MARKDOWN_BYTES
                                   for p in pieces)
    assert "\n".join(str(p) for p in pieces) == long


def test_a_document_is_a_line_saying_where_to_get_it() -> None:
    (text,) = parts(t, Reply("台账已生成", document=OutDocument("学习台账.xlsx", b"x")))
    assert text == "台账已生成\n" + t("wecom_bot.no_files", name="学习台账.xlsx")


def test_the_pressed_card_shows_the_answer_and_nothing_to_press_again() -> None:
    card = answered_card(t, "bb_1", Answered("哪天学习的？\n（可直接输入日期）", "今天"))
    assert card.title == "哪天学习的？" and [(b.text, b.key) for b in card.buttons] == [
        ("今天", DONE_KEY)]
    assert answered_card(t, "bb_1", None).buttons[0].text == t("wecom.card_done")
