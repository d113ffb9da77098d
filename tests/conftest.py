import pytest

from tests.fakes import FakeClock, FakeStore, FakeUnitOfWork
from tests.support import Chat


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
async def chat(store: FakeStore, clock: FakeClock) -> Chat:
    """The conversation service over in-memory fakes, with three entries imported."""
    chat = Chat(lambda: FakeUnitOfWork(store), clock)
    await chat.setup()
    return chat
