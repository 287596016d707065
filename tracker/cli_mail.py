"""`tracker mail ...` commands (draft, send, remind). Heavy imports stay inside the functions."""
import click

from tracker.cli import CONTEXT, campaign_option  # noqa: F401


@click.group(context_settings=CONTEXT)
def mail():
    """Gửi thư kèm tệp cho từng đơn vị; nhắc đơn vị chưa nộp."""
