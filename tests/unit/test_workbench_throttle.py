"""Sign-in limits count per window and forget everything when the window ends."""

from services.workbench.domain.throttle import WindowCounter


def test_an_address_is_stopped_after_its_failures_until_the_window_ends() -> None:
    now = [1000.0]
    counter = WindowCounter(limit=3, window_seconds=60, clock=lambda: now[0])
    for _ in range(3):
        assert counter.wait("10.0.0.1") is None
        counter.count("10.0.0.1")
    assert counter.wait("10.0.0.1") == 20  # 1000 is 40 s into its minute
    assert counter.wait("10.0.0.2") is None, "another address is not stopped"
    now[0] = 1020.0
    assert counter.wait("10.0.0.1") is None, "a new window forgets the count"
