from services.common.runtime import serve
from services.intake.app import SPEC, build_app
from services.intake.settings import IntakeSettings

settings = IntakeSettings()
serve(build_app(settings), settings, SPEC.name)
