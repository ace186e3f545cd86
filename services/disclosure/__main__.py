from services.common.runtime import serve
from services.disclosure.app import SPEC, build_app
from services.disclosure.settings import DisclosureSettings

settings = DisclosureSettings()
serve(build_app(settings), settings, SPEC.name)
