"""Declarative distribution specs, and samplers that draw from a numpy Generator."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from itertools import chain, count
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from hourglass.config.base import Model, exactly_one
from hourglass.i18n import _

if TYPE_CHECKING:
    from hourglass.config.scenario import Scenario

Mean = Annotated[float, Field(gt=0.0, le=1e9, allow_inf_nan=False)]
"""A mean: positive, and small enough that draws stay finite."""
Value = Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)]
Z95 = 1.959963984540054
"""The standard normal's 97.5th percentile: a 95% interval is the estimate +- Z95 se."""
Spread = Annotated[float, Field(ge=0.01, le=20.0, allow_inf_nan=False)]
"""A coefficient of variation: beyond these bounds the samplers lose precision or overflow."""


class _Params(Model):
    """One family's parameters; `mean_cv` gives the mean and coefficient of variation."""

    @property
    def mean_cv(self) -> tuple[float, float]:
        raise NotImplementedError


class UncertainMean(Model):
    """A mean time known only within bounds: the mean with its 95% interval.

    Read as the sampling distribution of a maximum-likelihood mean fitted on the log scale
    (as a calibration fits it): log-normal, its median at the mean, its log's standard
    deviation a quarter of the interval's width on the log scale, exp(log mean +- 1.96 se).
    Each replication of a run draws the mean from it.
    """

    mean: Mean
    ci: tuple[Mean, Mean]

    @field_validator("ci", mode="before")
    @classmethod
    def _two_days(cls, ci: Any) -> Any:
        if not isinstance(ci, list | tuple) or len(ci) != 2:
            raise ValueError(
                _(
                    "{ci} is not an interval: give two numbers of days, [low, high], e.g. [3, 7]"
                ).format(ci=ci)
            )
        for end in ci:
            if isinstance(end, int | float) and not isinstance(end, bool) and not end > 0:
                raise ValueError(
                    _("{ci}: both ends are days, above 0; {end} is not").format(ci=ci, end=end)
                )
        return ci

    @model_validator(mode="after")
    def _holds_the_mean(self) -> UncertainMean:
        if self.ci[0] >= self.ci[1]:
            raise ValueError(
                _(
                    "ci: [{low}, {high}] runs backwards; give the low end first, [{high}, {low}]"
                ).format(low=f"{self.ci[0]:g}", high=f"{self.ci[1]:g}")
            )
        if not self.ci[0] < self.mean < self.ci[1]:
            raise ValueError(
                _("ci: [{low}, {high}] must hold the mean {mean} strictly inside it").format(
                    low=f"{self.ci[0]:g}", high=f"{self.ci[1]:g}", mean=f"{self.mean:g}"
                )
            )
        return self

    @property
    def log_sd(self) -> float:
        """The standard deviation of the mean's log."""
        return math.log(self.ci[1] / self.ci[0]) / (2.0 * Z95)

    def draw(self, rng: np.random.Generator) -> float:
        """One draw of the mean (within the scenario's bounds on a mean)."""
        return float(min(self.mean * math.exp(self.log_sd * rng.standard_normal()), 1e9))

    def to_data(self) -> dict:
        """As a scenario file holds it."""
        return {"mean": self.mean, "ci": list(self.ci)}


class _Timed(_Params):
    """A family with a mean time, which may be given with bounds (`UncertainMean`)."""

    mean_days: Mean
    _interval: UncertainMean | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _uncertain_mean(cls, data: Any, handler: ModelWrapValidatorHandler[_Timed]) -> _Timed:
        given = data.get("mean_days") if isinstance(data, dict) else None
        if not isinstance(given, dict):
            return handler(data)
        try:
            interval = UncertainMean.model_validate(given)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(["mean_days", *map(str, first["loc"])])
            said = first["msg"].removeprefix("Value error, ")
            if first["type"] == "missing":
                said = _("required, but missing")
            raise ValueError(f"{where}: {said}") from None
        params = handler({**data, "mean_days": interval.mean})
        params._interval = interval
        return params

    @model_serializer(mode="wrap")
    def _write_interval(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if self._interval is not None and data.get("mean_days") == self.mean_days:
            data["mean_days"] = self._interval.to_data()
        return data


class _Exponential(_Timed):
    @property
    def mean_cv(self) -> tuple[float, float]:
        return self.mean_days, 1.0


class _Gamma(_Timed):
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

    @property
    def mean_interval(self) -> UncertainMean | None:
        """The distribution of a mean given with bounds (None: a plain number, or none)."""
        return getattr(getattr(self, self.family), "_interval", None)

    def with_mean(self, mean: float) -> Duration:
        """The same distribution with this mean, given as a plain number."""
        params = getattr(self, self.family).model_dump() | {"mean_days": mean}
        return type(self).model_validate({self.family: params})


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


Shape = Annotated[float, Field(gt=0.0, le=1e6, allow_inf_nan=False)]
Chance = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class _Beta(Model):
    a: Shape
    b: Shape


class UncertainProbability(Model):
    """A probability known only within bounds: a mean with its 95% interval, or a beta.

    `{mean: 0.5, ci: [0.4, 0.6]}` is read as the beta distribution with that mean whose
    central 95% interval is as wide as the one given; `{beta: {a: 20, b: 20}}` as written.
    Each replication of a run draws the probability from it.
    """

    mean: Chance | None = None
    ci: tuple[Chance, Chance] | None = None
    beta: _Beta | None = None

    @model_validator(mode="after")
    def _one_form(self) -> UncertainProbability:
        if (self.beta is None) == (self.mean is None or self.ci is None):
            raise ValueError(
                _(
                    "give a number, or a mean with its ci (mean: 0.5, ci: [0.4, 0.6]), or a "
                    "beta's a and b (beta: a: 20, b: 20)"
                )
            )
        if self.beta is not None and (self.mean is not None or self.ci is not None):
            raise ValueError(_("give mean and ci, or beta, not both"))
        if self.ci is not None and not self.ci[0] < self.mean < self.ci[1]:
            raise ValueError(
                _("ci: [{low}, {high}] must hold the mean {mean} strictly inside it").format(
                    low=f"{self.ci[0]:g}", high=f"{self.ci[1]:g}", mean=f"{self.mean:g}"
                )
            )
        return self

    @property
    def shapes(self) -> tuple[float, float]:
        """The beta distribution's a and b."""
        if self.beta is not None:
            return self.beta.a, self.beta.b
        return _beta_of(self.mean, self.ci[1] - self.ci[0])

    @property
    def expected(self) -> float:
        """The probability's mean."""
        a, b = self.shapes
        return a / (a + b)

    def draw(self, rng: np.random.Generator) -> float:
        """One draw of the probability."""
        return float(rng.beta(*self.shapes))

    def to_data(self) -> dict:
        """As a scenario file holds it."""
        if self.beta is not None:
            return {"beta": {"a": self.beta.a, "b": self.beta.b}}
        return {"mean": self.mean, "ci": list(self.ci)}


def _beta_of(mean: float, width: float) -> tuple[float, float]:
    """The beta with this mean whose central 95% interval has this width.

    The width falls as the concentration a + b grows, so one root is found between a
    concentration of 1e-3 (wider than any interval in [0, 1]) and 1e9 (a point).
    """
    from scipy import optimize, stats

    def excess(log_size: float) -> float:
        size = math.exp(log_size)
        low, high = stats.beta.ppf([0.025, 0.975], mean * size, (1.0 - mean) * size)
        return high - low - width

    if excess(math.log(1e-3)) <= 0.0:
        size = 1e-3
    elif excess(math.log(1e9)) >= 0.0:
        size = 1e9
    else:
        size = math.exp(optimize.brentq(excess, math.log(1e-3), math.log(1e9), xtol=1e-10))
    return mean * size, (1.0 - mean) * size


PARAMETER_STREAM = 104_729
"""The spawn key, under a replication's seed, of the stream its parameters are drawn from."""


def uncertain_parameters(scenario: Scenario) -> list[str]:
    """The fields given with bounds, which each replication draws (e.g. stages.buy.pass_prob)."""
    probabilities = [
        f"stages.{name}.pass_prob"
        for name, stage in scenario.funnel
        if stage.pass_prob_interval is not None
    ]
    means = [
        f"stages.{name}.duration"
        for name, stage in scenario.funnel
        if stage.duration.mean_interval is not None
    ]
    return probabilities + means


def parameter_rng(seed: int, rep: int) -> np.random.Generator:
    """The generator replication `rep` of `seed` draws its parameters from.

    A stream apart from the run's own, so that drawing parameters leaves the run's luck as
    it was.
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(rep, PARAMETER_STREAM)))


def with_drawn_parameters(scenario: Scenario, rng: np.random.Generator) -> Scenario:
    """The scenario with each parameter given with bounds drawn once; the others as they are."""
    drawn = {}
    for name, stage in scenario.funnel:
        interval = stage.pass_prob_interval
        if interval is not None:
            fixed = stage.model_copy(update={"pass_prob": interval.draw(rng)})
            fixed._interval = None
            drawn["try_" if name == "try" else name] = fixed
    # the means after every pass probability: scenarios drawing only those draw as before
    for name, stage in scenario.funnel:
        mean = stage.duration.mean_interval
        if mean is not None:
            key = "try_" if name == "try" else name
            duration = stage.duration.with_mean(mean.draw(rng))
            drawn[key] = drawn.get(key, stage).model_copy(update={"duration": duration})
    if not drawn:
        return scenario
    return scenario.model_copy(update={"stages": scenario.stages.model_copy(update=drawn)})
