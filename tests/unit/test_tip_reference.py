import re

from schemas.intake import TipReceivedV1
from services.intake.domain.reference import new_reference


def test_a_reference_has_the_published_format() -> None:
    pattern = TipReceivedV1.model_fields["reference"].metadata[0].pattern
    for _ in range(1000):
        assert re.fullmatch(pattern, new_reference())


def test_references_do_not_repeat_in_a_large_draw() -> None:
    drawn = {new_reference() for _ in range(20_000)}
    assert len(drawn) == 20_000
