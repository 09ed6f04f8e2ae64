from tests.portfolio.guardians.world import family

__all__ = ["family"]
