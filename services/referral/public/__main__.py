import asyncio

from services.common.logging import configure_logging
from services.common.roles import PUBLIC_DIRECTORY
from services.common.runtime import listeners, serve_both
from services.referral.public import build_app
from services.referral.settings import PublicDirectorySettings

settings = PublicDirectorySettings()
configure_logging(PUBLIC_DIRECTORY, settings.log_level)
asyncio.run(serve_both(*listeners(build_app(settings), settings)))  # type: ignore[arg-type]
