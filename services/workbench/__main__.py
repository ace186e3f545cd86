import asyncio

from services.common.logging import configure_logging
from services.common.runtime import listeners, serve_both
from services.workbench.app import NAME, build_app
from services.workbench.settings import WorkbenchSettings

settings = WorkbenchSettings()
configure_logging(NAME, settings.log_level)
asyncio.run(serve_both(*listeners(build_app(settings), settings)))  # type: ignore[arg-type]
