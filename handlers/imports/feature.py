"""The office's files from the chat: send a sheet or the calendar to import it; /template."""

from handlers.core.features import Command, Feature
from handlers.core.policy import LEADERS, Policy
from handlers.imports.upload import on_file, template_command

FEATURE = Feature(
    name="imports",
    rank=95,
    commands=(Command("template", template_command,
                      Policy(roles=LEADERS, refused="upload.not_leader"), help="help.template"),),
    uploaded=on_file,
)
