from services.common.runtime import serve
from services.monitoring.app import SPEC, build_app
from services.monitoring.settings import MonitoringSettings

settings = MonitoringSettings()
serve(build_app(settings), settings, SPEC.name)
