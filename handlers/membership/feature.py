"""Membership: getting in (/start, /join, the join dialog, a shared contact), join requests and
their approval (/pending, 同意 / 拒绝), finding one's way (/help, /cancel), binding the branch's
group chat (/bindgroup)."""

from handlers.core.buttons import JoinDecision
from handlers.core.features import Command, Feature, Press
from handlers.core.policy import ANYONE, LEADERS, Policy, Where
from handlers.membership import commands
from handlers.membership.join import JOIN, on_contact

FEATURE = Feature(
    name="membership",
    rank=100,
    commands=(
        Command("cancel", commands.cancel, ANYONE, help="help.cancel"),
        Command("help", commands.help_command, ANYONE, help="help.help"),
        Command("start", commands.start, ANYONE, menu=False),
        Command("join", commands.join_command, ANYONE, menu=False),
        Command("pending", commands.pending,
                Policy(roles=LEADERS, refused="join.not_decider"), help="help.pending"),
        Command("bindgroup", commands.bindgroup,
                Policy(where=Where.group, elsewhere="bindgroup.group_only", member=False),
                help="help.bindgroup", help_for=LEADERS),
    ),
    presses=(Press(JoinDecision, commands.on_decision,
                   Policy(where=Where.anywhere, roles=LEADERS, refused="join.not_decider")),),
    dialogs=(JOIN,),
    attested=on_contact,
)
