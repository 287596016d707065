"""`tracker stats`: load, compute, render."""
from tracker.stats import campaign_stats
from tracker.cli.views import print_stats
from tracker.store.workspace import Workspace


def run_stats(campaign_dir, fmt, as_of) -> None:
    ws = Workspace.find(campaign_dir)
    print_stats(campaign_stats(ws, as_of), ws.campaign, fmt)
