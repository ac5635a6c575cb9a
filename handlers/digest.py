"""The weekly digest job (not a listener), per workspace: the database tick runs it in every
workspace guildbot is installed in, so each workspace's digest goes out within a tick of its
own schedule's time (its `digest_cron` setting), and one every process missed or failed to
post still goes out within `bot.domain.digest.GRACE`. Exactly one process posts each
workspace's digest of a period."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

from bot.services import Services
from bot.views.chart import activity_chart
from bot.views.digest import CHART_FILENAME, chart_comment, digest_blocks, digest_text
from handlers.seam import workspace_for

log = logging.getLogger("guildbot.handlers.digest")


async def post_digest(services: Services, client: AsyncWebClient, team_id: str) -> bool:
    """Posts the workspace's due digest to its digest channel (`client` has its token) if
    this process claims it; True when posted.

    The weekly-activity chart always goes with it, as a file in the digest's thread; a chart
    that fails to upload is logged and does not make the digest post twice.
    """
    settings = workspace_for(services, team_id).settings
    channel = settings.digest_channel
    if not channel:
        return False
    period = await services.run(services.digest.claim, team_id, channel, settings.digest_cron)
    if period is None:
        return False
    try:
        digest = await services.run(services.digest.build, team_id, period)
        posted = await client.chat_postMessage(
            channel=channel, text=digest_text(digest), blocks=digest_blocks(digest)
        )
    except Exception:
        log.exception(
            "the digest of %s for %s could not be posted; it is tried again",
            team_id,
            period.end,
            extra={"team": team_id},
        )
        await services.run(services.digest.failed, team_id, period)
        return False
    await services.run(services.digest.posted, team_id, period, posted["ts"])
    try:
        # Off the loop (the first chart in a process takes most of a second), and off the
        # database workers.
        chart = await asyncio.to_thread(activity_chart, digest.activity)
        await client.files_upload_v2(
            channel=channel,
            thread_ts=posted["ts"],
            content=chart,
            filename=CHART_FILENAME,
            title="Weekly activity",
            initial_comment=chart_comment(),
        )
    except Exception:
        log.exception("the digest's chart in %s could not be uploaded", team_id)
    return True
