"""Membership: getting in (/start, /join, the join dialog), finding one's way (/help, /cancel),
binding the branch's group chat (/bindgroup)."""

from handlers.core.features import Command, Feature
from handlers.core.policy import ANYONE, LEADERS, Policy, Where
from handlers.membership import commands
from handlers.membership.join import JOIN

FEATURE = Feature(
    name="membership",
    rank=100,
    commands=(
        Command("cancel", commands.cancel, ANYONE, help="help.cancel"),
        Command("help", commands.help_command, ANYONE, help="help.help"),
        Command("start", commands.start, ANYONE, menu=False),
        Command("join", commands.join_command, ANYONE, menu=False),
        Command("bindgroup", commands.bindgroup,
                Policy(where=Where.group, elsewhere="bindgroup.group_only", member=False),
                help="help.bindgroup", help_for=LEADERS),
    ),
    dialogs=(JOIN,),
)
