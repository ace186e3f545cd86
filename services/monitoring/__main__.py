from services.common.runtime import serve
from services.common.settings import ServiceSettings
from services.monitoring.app import SPEC, build_app

settings = ServiceSettings()
serve(build_app(settings), settings, SPEC.name)
