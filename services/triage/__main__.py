from services.common.runtime import serve
from services.triage.app import SPEC, build_app
from services.triage.settings import TriageSettings

settings = TriageSettings()
serve(build_app(settings), settings, SPEC.name)
