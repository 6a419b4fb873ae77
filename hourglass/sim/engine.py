"""The SimPy engine: arrivals, journeys, the sales team, life after the sale, referrals.

Whatever does not depend on shared state is drawn in numpy blocks when a day's contacts
arrive (their pass/fail paths through stages no seller works). What interacts is ordered in
time: leads reaching the sales team wait in one queue, served first come, first served, so
a lead's wait and its seller's work are settled when it arrives; a day's referral contacts
with the market are made in time order when the day's batches arrive; changes in the
antagonist count are SimPy events. The engine writes the event log and counts nothing
itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import count

import numpy as np
import simpy

from hourglass.config.arguments import as_scenario, checked_seed
from hourglass.config.graph import build_graph
from hourglass.config.network import SOCIAL_CHANNEL
from hourglass.config.plan import Plan, compile_plan
from hourglass.config.scenario import Scenario
from hourglass.config.segments import committee_stage, segment_committees
from hourglass.config.work import CEILING_SLACK, WorkCeilingError, estimate_work
from hourglass.log import (
    FIRST_REASON,
    EventLog,
    Run,
    answers_table,
    contacts_table,
    levels_table,
    moves_table,
    prospects_table,
    purchases_table,
    visits_table,
)
from hourglass.sim.committee import BuyingCentre
from hourglass.sim.customers import Customers
from hourglass.sim.journeys import Contacts, Journeys
from hourglass.sim.known import KnownCustomers
from hourglass.sim.market import Market
from hourglass.sim.neighbourhood import Neighbourhood
from hourglass.sim.sales_setup import SalesSetup
from hourglass.sim.starting import STARTING_STREAM, starting_lives
from hourglass.sim.streams import (
    MARKET,
    RUN_STREAMS,
    TIMES,
    UNIFORMS,
    Streams,
    child,
)
from hourglass.sim.team import (
    Lead,
)
from hourglass.stages import (
    DAYS_PER_MONTH,
    DEFAULT_LOSS_REASON,
    DISQUALIFIED,
    FUNNEL,
    LOYALTY_CLASSES,
    REFUSED_BY,
    WENT_COLD,
)

CHECK_EVERY = 64
"""First purchases between two checks of a run's work against its ceiling."""

SEGMENT_STREAMS = 7927
"""The child of the run's seed whose streams draw each contact's segment (none without
segments, so runs without them draw as before)."""


def simulate(
    scenario: Scenario,
    seed: int | np.random.SeedSequence | None = None,
    *,
    cohort: Sequence[float] = (),
    known: KnownCustomers | None = None,
) -> Run:
    """Simulate the scenario to its horizon; `seed` defaults to the scenario's own.

    Budgets act through their response curves, as the scenario's plan resolves them.
    `cohort` gives the days of first purchases of known customers (e.g. from a transaction
    log): they join as buyers on those days, outside the funnel, from channel "cohort".
    The scenario's starting customers join on day 0 from that channel too, their first
    purchase made before the run and so not logged.
    `known` customers join on day 0 from that channel too, each conditioned on their own
    purchases so far (`sim.known`).
    A scenario may also be given as a file's path or a shipped scenario's name.
    """
    scenario, seed = as_scenario(scenario), checked_seed(seed)
    seq = (
        seed
        if isinstance(seed, np.random.SeedSequence)
        else np.random.SeedSequence(scenario.seed if seed is None else seed)
    )
    days = sorted(float(d) for d in cohort)
    if (days or known) and scenario.network is not None:
        raise ValueError("cohort: known customers have no place in the network; run without it")
    if days and not (days[0] >= 0.0 and days[-1] < scenario.horizon_days):
        raise ValueError(
            f"cohort: first purchases must lie in [0, {scenario.horizon_days:g}) days, "
            f"got {days[0]:g} to {days[-1]:g}"
        )
    starting = scenario.starting_customers.count if scenario.starting_customers else 0
    engine = _Engine(compile_plan(scenario), seq, days, starting, known)
    entropy = seq.entropy if isinstance(seq.entropy, int) else 0
    with _cycle_collector_paused():
        log = engine.run()
    return Run(scenario=scenario, seed=entropy, log=log)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector, and restore it after.

    A run makes no reference cycles (reference counting frees all it drops), while the
    collector's passes over its many short-lived events and leads would take about a fifth
    of the run.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Engine(Journeys, Customers, SalesSetup):
    """Holds the SimPy environment and the state that processes share."""

    def __init__(
        self,
        plan: Plan,
        seq: np.random.SeedSequence,
        cohort: list[float],
        starting: int = 0,
        known: KnownCustomers | None = None,
    ) -> None:
        self.plan, self.seq = plan, seq
        self.s = scenario = plan.scenario
        self.cohort, self.starting, self.known = cohort, starting, known
        rngs = [np.random.default_rng(child(seq, i)) for i in range(len(RUN_STREAMS))]
        self.rng = dict(zip(RUN_STREAMS, rngs, strict=True))
        network = scenario.network
        self.net = (
            Neighbourhood(
                build_graph(network.spec, network.seed),
                network.trust_boost,
                # the child after the other streams': runs without a network draw as before
                np.random.default_rng(child(seq, len(RUN_STREAMS))),
            )
            if network
            else None
        )
        self.env = simpy.Environment()
        self.horizon = scenario.horizon_days
        self.streams = Streams(seq)
        self.market = Market(scenario.market.size, self.rng["referrals"])
        self._setup_vocabulary()
        self._setup_segments(seq)
        self._setup_funnel()
        self._setup_sales()
        self._setup_after_sale()
        self._setup_follow_up()
        self._setup_engage()
        self._setup_ladder(seq)
        self._setup_committee()
        self.lone_draws = Streams(seq).batch(self.referral_channel, 0, lone=True)
        self.prospects = prospects_table()
        self.visits = visits_table()
        self.purchases = purchases_table()
        self.moves = moves_table()
        self.contacts = contacts_table()
        self.answers = answers_table()
        self.level_moves = levels_table()
        self.pending: list[tuple[float, int, int]] = []
        self.lead_queue: list[tuple[float, int, Lead]] = []  # a heap
        self.lead_order = count()  # ties in time go first come, first served
        self.desk_wakes: list[float] = []  # a heap: when the desk's wake-ups are due
        self.batch_end = 0.0
        self.antagonists = 0
        self.ceiling: float = CEILING_SLACK  # raised to the estimate's once a run gets there
        self.estimated = False
        self.until_check = CHECK_EVERY

    # -- set-up: turn the scenario into arrays the processes index ---------------------------

    def _setup_vocabulary(self) -> None:
        s = self.s
        cohort = ("cohort",) if self.cohort or self.starting or self.known else ()
        social = (SOCIAL_CHANNEL,) if s.network and s.network.social_selling else ()
        self.channels = (*s.channels.paid, "organic", "referral", *social, *cohort)
        self.referral_channel = self.channels.index("referral")
        reasons: list[str] = []
        for name, stage in s.funnel:
            reasons += list(stage.loss_reasons or {DEFAULT_LOSS_REASON[name]: 1.0})
        reasons += [WENT_COLD, DISQUALIFIED]
        committees = [c for c in segment_committees(s.committee, s.segments) if c is not None]
        self.roles = tuple(dict.fromkeys(role for c in committees for role in c.roles))
        reasons += [REFUSED_BY + role for role in self.roles]
        self.reasons = tuple(dict.fromkeys(reasons))
        self.classes = LOYALTY_CLASSES

    def _setup_segments(self, seq: np.random.SeedSequence) -> None:
        """Each channel's cut points: a contact's segment is where its uniform falls.

        A channel the segments do not share out (social selling, known customers) goes to
        the first segment.
        """
        segments = self.s.segments or {}
        self.segment_names = tuple(segments)
        self.segmented = bool(segments)
        if not segments:
            return
        self.segment_cuts = []
        for channel in self.channels:
            shares = np.array([seg.share.get(channel, 0.0) for seg in segments.values()])
            if not shares.sum():
                shares[0] = 1.0
            self.segment_cuts.append(np.cumsum(shares / shares.sum())[:-1])
        self.segment_streams = Streams(child(seq, SEGMENT_STREAMS))
        lone = Streams(child(seq, SEGMENT_STREAMS)).batch(self.referral_channel, 0, lone=True)
        self.lone_segments = lone[UNIFORMS]

    def _setup_funnel(self) -> None:
        s, plan = self.s, self.plan
        self.worked = [*plan.worked, False]  # the purchase after Buy
        trusting = s.network is not None and s.network.trust_boost > 0
        self.boosted = [trusting and name in ("like", "trust") for name in FUNNEL] + [False]
        # stages decided one lead at a time, when it enters them: the worked and boosted ones
        self.per_lead = [w or b for w, b in zip(self.worked, self.boosted, strict=True)]
        # by segment, month and stage
        self.pass_prob = np.stack([seg.pass_prob for seg in plan.segments])
        self.pass_prob_referred = np.stack([seg.pass_prob_referred for seg in plan.segments])
        self.last_month = self.pass_prob.shape[1] - 1
        self.duration = [st.duration.sampler() for _, st in s.funnel]
        self.own_durations = [
            [
                (code, seg.durations[k].sampler())
                for code, seg in enumerate(plan.segments)
                if seg.durations[k] != stage.duration
            ]
            for k, (_, stage) in enumerate(s.funnel)
        ]
        self.loss_codes: list[np.ndarray] = []
        self.loss_cum: list[np.ndarray] = []
        for name, stage in s.funnel:
            weights = stage.loss_reasons or {DEFAULT_LOSS_REASON[name]: 1.0}
            codes = [FIRST_REASON + self.reasons.index(r) for r in weights]
            self.loss_codes.append(np.array(codes, dtype=np.int8))
            w = np.array(list(weights.values()))
            self.loss_cum.append(np.cumsum(w / w.sum())[:-1])  # reason = bisect of a uniform
        self.drag = s.referral.antagonist_drag if s.referral else 0.0
        # plain Python copies for the per-lead code, where numpy scalars cost time
        self.cold_probs = self.pass_prob.tolist()
        self.warm_probs = self.pass_prob_referred.tolist()
        self.loss_code_lists = [codes.tolist() for codes in self.loss_codes]

    def _setup_committee(self) -> None:
        """Each segment's buying centre (None where its deals meet none), one stage for all."""
        s = self.s
        stage = committee_stage(s.committee, s.segments)
        self.committee_stage = -1
        self.centre = None
        if stage is None:
            return
        self.committee_stage = FUNNEL.index(stage)
        self.per_lead[self.committee_stage] = True
        worked = set(self.plan.seller_of.values())
        built: dict[int, BuyingCentre] = {}
        self.centres = []
        for committee in segment_committees(s.committee, s.segments):
            if committee is not None and id(committee) not in built:
                built[id(committee)] = BuyingCentre(committee, self.channels, worked, self.roles)
            self.centres.append(built[id(committee)] if committee is not None else None)
        self.centre = next(iter(built.values()))
        self.refused = [FIRST_REASON + self.reasons.index(REFUSED_BY + role) for role in self.roles]

    def run(self) -> EventLog:
        self.env.process(self.outside_arrivals())
        self.join_cohort()
        self.join_known()
        self.env.run(until=self.horizon)
        return EventLog(
            graph=self.net.graph if self.net else None,
            horizon_days=self.horizon,
            warmup_days=self.s.warmup_days,
            seats=self.s.sales.seats if self.s.sales else 0,
            channels=self.channels,
            reasons=self.reasons,
            classes=self.classes,
            prospects=self.prospects.freeze(),
            visits=self.visits.freeze(),
            purchases=self.purchases.freeze(),
            moves=self.moves.freeze(),
            contacts=self.contacts.freeze(),
            roles=self.roles,
            sellers=self.sellers,
            seller_capacity=self.seller_capacity,
            seller_days=self.seller_days,
            seller_spans=self.seller_spans,
            follow_ups_missed=tuple(self.follow_ups_missed),
            talks_missed=tuple(self.talks_missed),
            answers=self.answers.freeze() if self.centre else None,
            segments=self.segment_names,
            levels=tuple(self.ladder.names) if self.ladder else (),
            level_moves=self.level_moves.freeze() if self.ladder else None,
        )

    def join_cohort(self) -> None:
        """Known customers become buyers on their first-purchase days; starting ones on day 0.

        Starting customers bought before the run: their lives go on from day 0, from the
        states `sim.starting` draws, without a first purchase in the log.
        """
        code = len(self.channels) - 1
        for day in self.cohort:
            pid = self.prospects.count
            self.prospects.add_row(day, code, -1, -1, 0)
            self.on_purchase(pid, day, 0)
        starting = self.s.starting_customers
        if starting is None:
            return
        lives = starting_lives(
            starting,
            self.s.after_sale.loyalty.start,
            self.plan.segments[0].repeat,
            self.repeat_boost,
            np.random.default_rng(child(self.seq, STARTING_STREAM)),
        )
        for klass, rate, dropout in zip(
            lives.classes.tolist(), lives.rates.tolist(), lives.dropouts.tolist(), strict=True
        ):
            pid = self.prospects.count
            self.prospects.add_row(0.0, code, -1, -1, 0)
            self.antagonists += klass == self.antagonist
            self.on_purchase(pid, 0.0, 0, opening=False, state=(klass, rate, dropout))

    def outside_arrivals(self):
        """Paid and organic contacts land on the market day by day; new people enter Know."""
        env = self.env
        rates = self.plan.outside_per_day  # per day, month by month
        social = self.s.network.social_selling if self.s.network else None
        day = 0
        while day < self.horizon:
            self.within_ceiling()
            end = min(day + 1.0, self.horizon)
            self.batch_end = end
            batches = []
            due = [item for item in self.pending if item[0] < end]
            if due:
                self.pending = [item for item in self.pending if item[0] >= end]
                times, referrers, who = (np.array(c) for c in zip(*due, strict=True))
                gens = self.streams.batch(self.referral_channel, day)
                referrers = referrers.astype(np.int32)
                batches.append(self.batch_of(gens, times, self.referral_channel, referrers, who))
            month = int(day / DAYS_PER_MONTH)
            today = [by_month[min(month, len(by_month) - 1)] for by_month in rates]
            for code, rate in enumerate(today):
                if rate <= 0:
                    continue
                gens = self.streams.batch(code, day)
                n = int(gens[TIMES].poisson(rate * (end - day)))
                times = day + gens[TIMES].random(n) * (end - day)
                who = gens[MARKET].integers(self.market.size or 1, size=n)
                new = self.market.claim_block(who)
                batches.append(self.batch_of(gens, times, code, np.full(n, -1, np.int32), who, new))
            if social is not None and social.lift * sum(today) > 0:
                batches.append(self.social_selling(day, end, social.lift * sum(today)))
            self.admit(batches)
            self.talk(day)
            yield env.timeout(end - day)
            day += 1

    def on_purchase(
        self,
        pid: int,
        day: float,
        segment: int = 0,
        *,
        opening: bool = True,
        state: tuple[int, float, float] | None = None,
    ) -> None:
        """A first purchase: its customer's life is drawn unless the run is past its ceiling.

        Buyers drive the work that feeds back (repeats, referrals); every CHECK_EVERY-th is
        checked, which keeps the check's cost out of sight.
        """
        self.until_check -= 1
        if not self.until_check:
            self.until_check = CHECK_EVERY
            self.within_ceiling()
        Customers.on_purchase(self, pid, day, segment, opening=opening, state=state)

    def within_ceiling(self) -> None:
        """Stop a run that has gone far past its estimated work.

        The estimate is made only once a run passes the slack, so that small runs never pay
        for it.
        """
        done = (
            self.prospects.count
            + self.visits.count
            + self.purchases.count
            + self.moves.count
            + self.contacts.count
            + self.answers.count
        )
        if done <= self.ceiling:
            return
        if not self.estimated:
            self.estimated = True
            joined = [*self.cohort, *[0.0] * len(self.known or ())]
            self.ceiling = estimate_work(self.plan, known_customers=joined).ceiling
            if done <= self.ceiling:
                return
        raise WorkCeilingError(
            f"'{self.s.name}' stopped at day {self.env.now:g}: {done:,} events, past its "
            f"ceiling of {self.ceiling:,.0f} (a multiple of the estimate); the estimate "
            "misjudges this scenario, please report it"
        )

    def social_selling(self, day: int, end: float, rate: float) -> Contacts:
        """Sellers' social selling reaches `rate` people a day among customers' contacts."""
        code = self.channels.index(SOCIAL_CHANNEL)
        gens = self.streams.batch(code, day)
        n = int(gens[TIMES].poisson(rate * (end - day)))
        times = day + gens[TIMES].random(n) * (end - day)
        who = self.net.near_customers(n, gens[MARKET])
        known = np.flatnonzero(who >= 0)
        new = np.zeros(n, dtype=bool)
        new[known] = self.market.claim_block(who[known])
        return self.batch_of(gens, times, code, np.full(n, -1, np.int32), who, new)
