"""Declarative distribution specs, and samplers that draw from a numpy Generator."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from itertools import chain, count
from typing import Annotated

import numpy as np
from pydantic import Field, model_validator

from hourglass.config.base import Model, exactly_one

Mean = Annotated[float, Field(gt=0.0, le=1e9, allow_inf_nan=False)]
"""A mean: positive, and small enough that draws stay finite."""
Value = Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)]
Spread = Annotated[float, Field(ge=0.01, le=20.0, allow_inf_nan=False)]
"""A coefficient of variation: beyond these bounds the samplers lose precision or overflow."""


class _Params(Model):
    """One family's parameters; `mean_cv` gives the mean and coefficient of variation."""

    @property
    def mean_cv(self) -> tuple[float, float]:
        raise NotImplementedError


class _Exponential(_Params):
    mean_days: Mean

    @property
    def mean_cv(self) -> tuple[float, float]:
        return self.mean_days, 1.0


class _Gamma(_Params):
    mean_days: Mean
    cv: Spread

    @property
    def mean_cv(self) -> tuple[float, float]:
        return self.mean_days, self.cv


class _Lognormal(_Gamma):
    pass


class _Fixed(_Params):
    days: Value

    @property
    def mean_cv(self) -> tuple[float, float]:
        return self.days, 0.0


class _AmountExponential(_Params):
    mean: Mean

    @property
    def mean_cv(self) -> tuple[float, float]:
        return self.mean, 1.0


class _AmountGamma(_Params):
    mean: Mean
    cv: Spread

    @property
    def mean_cv(self) -> tuple[float, float]:
        return self.mean, self.cv


class _AmountLognormal(_AmountGamma):
    pass


class _AmountFixed(_Params):
    value: Value

    @property
    def mean_cv(self) -> tuple[float, float]:
        return self.value, 0.0


class _OneOf(Model):
    """Exactly one family key must be given."""

    @model_validator(mode="after")
    def _exactly_one(self) -> _OneOf:
        exactly_one(self, list(type(self).model_fields), count=True)
        return self

    @property
    def family(self) -> str:
        """The chosen family: exponential, gamma, lognormal or fixed."""
        return next(n for n in type(self).model_fields if getattr(self, n) is not None)

    @property
    def mean(self) -> float:
        """The distribution's mean."""
        return getattr(self, self.family).mean_cv[0]

    def sampler(self) -> Sampler:
        """A sampler for this distribution."""
        return Sampler(self.family, *getattr(self, self.family).mean_cv)


class Duration(_OneOf):
    """A time in days: exponential, gamma or lognormal (by mean and cv), or fixed."""

    exponential: _Exponential | None = None
    gamma: _Gamma | None = None
    lognormal: _Lognormal | None = None
    fixed: _Fixed | None = None


class Amount(_OneOf):
    """A money amount: exponential, gamma or lognormal (by mean and cv), or fixed."""

    exponential: _AmountExponential | None = None
    gamma: _AmountGamma | None = None
    lognormal: _AmountLognormal | None = None
    fixed: _AmountFixed | None = None


class Sampler:
    """Draws from one distribution given by family, mean and coefficient of variation."""

    __slots__ = ("_a", "_b", "cv", "family", "mean")

    def __init__(self, family: str, mean: float, cv: float) -> None:
        self.family, self.mean, self.cv = family, mean, cv
        if family == "gamma":
            self._a, self._b = 1.0 / cv**2, mean * cv**2  # shape, scale
        elif family == "lognormal":
            sigma2 = math.log1p(cv**2)
            self._a, self._b = math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)  # mu, sigma
        else:
            self._a = self._b = 0.0

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` independent draws as a float64 array."""
        if self.family == "exponential":
            return rng.exponential(self.mean, size)
        if self.family == "gamma":
            return rng.gamma(self._a, self._b, size)
        if self.family == "lognormal":
            return rng.lognormal(self._a, self._b, size)
        return np.full(size, self.mean)


def draws(fill: Callable[[int], np.ndarray]) -> Callable[[], float]:
    """Scalar draws served from blocks that numpy fills, in order; each call gives the next.

    The blocks are chained by C iterators, so a draw costs no Python frame.
    """
    blocks = (fill(_BLOCK).tolist() for _ in count())
    return partial(next, chain.from_iterable(blocks))


_BLOCK = 512
