"""Rep/rest scheme learning across sessions: a safe contextual Thompson-sampling bandit.

Arms are (reps per set) x (rest) options, each a valid
:class:`~workbench.bfr.presets.ProtocolPreset` edit checked when the learner is built, so
no recommendation leaves the limits. The reward (:func:`session_reward`) is the training
stimulus (SmO2 drop, EMG rise) minus the 48 h soreness; each context (preset key,
readiness band) has its own Gaussian posterior per arm. Recommendations carry their
reasons and are stored as ``bfr_events`` rows (kind ``recommendation``) or in a JSON file
under :func:`workbench.config.state_dir`. ADR: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workbench.bfr.presets import ProtocolPreset, get_preset

DEFAULT_REPS: tuple[tuple[int, ...], ...] = (
    (30, 15, 15, 15),
    (25, 12, 12, 12),
    (20, 10, 10, 10),
    (15, 15, 15, 15),
)
DEFAULT_REST_S: tuple[float, ...] = (30.0, 45.0, 60.0)


@dataclass(frozen=True)
class SchemeOption:
    """One arm: reps per set and rest between sets (s)."""

    scheme: tuple[int, ...]
    rest_s: float

    @property
    def label(self) -> str:
        return "-".join(str(r) for r in self.scheme) + f" / {self.rest_s:g} s"


def session_reward(
    smo2_drop_pct: float,
    emg_rise_ratio: float,
    soreness_48h_0_10: float,
    *,
    w_smo2: float = 0.05,
    w_emg: float = 1.0,
    w_soreness: float = 0.25,
) -> float:
    """Reward of one session: ``w_smo2*SmO2 drop + w_emg*(EMG ratio - 1) - w_soreness*soreness``.

    Non-finite inputs raise ``ValueError`` (a missing outcome is not a zero).
    """
    vals = (smo2_drop_pct, emg_rise_ratio, soreness_48h_0_10)
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in vals):
        raise ValueError(f"reward inputs must be finite numbers, got {vals}")
    if not 0 <= soreness_48h_0_10 <= 10:
        raise ValueError(f"soreness must be 0-10, got {soreness_48h_0_10}")
    return w_smo2 * smo2_drop_pct + w_emg * (emg_rise_ratio - 1.0) - w_soreness * soreness_48h_0_10


@dataclass
class _Posterior:
    n: int = 0
    mean: float = 0.0
    precision: float = 1.0  # prior precision (1 / prior variance)


@dataclass(frozen=True)
class Recommendation:
    """A recommended option with the reasons (posterior means, counts, sample)."""

    context: str
    option: SchemeOption
    reasons: tuple[str, ...]
    sampled_value: float

    def to_json(self) -> str:
        """JSON message (for a ``bfr_events`` row or the state file)."""
        d = asdict(self)
        d["option"]["label"] = self.option.label
        return json.dumps(d)


@dataclass
class SchemeLearner:
    """Thompson sampling over :class:`SchemeOption` arms, one posterior per context.

    Parameters
    ----------
    preset:
        The preset whose limits every arm must satisfy (default in-season athletes).
    options:
        Arms; built from :data:`DEFAULT_REPS` x :data:`DEFAULT_REST_S` and filtered to
        those that pass the preset's validation. An explicitly given arm that does not
        pass raises :class:`~workbench.bfr.limits.PrescriptionError`.
    noise_sd:
        Reward noise SD assumed by the posterior.
    seed:
        Random seed (reproducible recommendations).
    """

    preset: ProtocolPreset = field(default_factory=lambda: get_preset("in_season_athletes"))
    options: tuple[SchemeOption, ...] | None = None
    noise_sd: float = 0.5
    prior_mean: float = 0.0
    prior_sd: float = 1.0
    seed: int = 0
    log: list[Recommendation] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.options is None:
            opts = []
            for reps in DEFAULT_REPS:
                for rest in DEFAULT_REST_S:
                    try:
                        self.preset.edit(scheme=reps, rest_s=rest)
                    except ValueError:
                        continue
                    opts.append(SchemeOption(reps, rest))
            self.options = tuple(opts)
        else:
            for o in self.options:
                self.preset.edit(scheme=tuple(o.scheme), rest_s=o.rest_s)  # raises if outside
        if not self.options:
            raise ValueError("no scheme option fits the preset's limits")
        self._rng = random.Random(self.seed)
        self._post: dict[str, list[_Posterior]] = {}

    def _posts(self, context: str) -> list[_Posterior]:
        assert self.options is not None
        if context not in self._post:
            self._post[context] = [
                _Posterior(0, self.prior_mean, 1.0 / self.prior_sd**2) for _ in self.options
            ]
        return self._post[context]

    def recommend(self, context: str) -> Recommendation:
        """Sample each arm's posterior and recommend the best sample (with reasons)."""
        assert self.options is not None
        posts = self._posts(context)
        draws = [self._rng.gauss(p.mean, 1.0 / math.sqrt(p.precision)) for p in posts]
        i = max(range(len(draws)), key=draws.__getitem__)
        best_mean = max(range(len(posts)), key=lambda k: posts[k].mean)
        p = posts[i]
        reasons = [
            f"Thompson sample {draws[i]:.2f} is the highest of {len(draws)} options",
            f"posterior mean reward {p.mean:.2f} ± {1 / math.sqrt(p.precision):.2f} from {p.n} session(s)",
            f"best posterior mean so far: {self.options[best_mean].label} ({posts[best_mean].mean:.2f})",
            f"all options inside {self.preset.name} limits (rest 30-60 s, "
            f"<= {self.preset.restriction_max_s:.0f} s restriction)",
        ]
        rec = Recommendation(context, self.options[i], tuple(reasons), draws[i])
        self.log.append(rec)
        return rec

    def update(self, context: str, option: SchemeOption, reward: float) -> None:
        """Bayesian update of ``option``'s posterior in ``context`` with one reward."""
        assert self.options is not None
        if option not in self.options:
            raise ValueError(f"{option.label} is not one of the learner's options")
        if not math.isfinite(reward):
            raise ValueError(f"reward must be finite, got {reward}")
        p = self._posts(context)[self.options.index(option)]
        obs_prec = 1.0 / self.noise_sd**2
        new_prec = p.precision + obs_prec
        p.mean = (p.precision * p.mean + obs_prec * reward) / new_prec
        p.precision = new_prec
        p.n += 1

    def posterior_means(self, context: str) -> dict[str, float]:
        """Posterior mean reward per option label."""
        assert self.options is not None
        return {o.label: p.mean for o, p in zip(self.options, self._posts(context), strict=True)}

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path | None = None) -> Path:
        """Write posteriors and the recommendation log as JSON (default: state dir)."""
        from workbench.config import state_dir

        path = Path(path) if path is not None else state_dir() / "bfr_scheme_learning.json"
        assert self.options is not None
        data = {
            "version": 1,
            "preset": self.preset.key,
            "options": [[list(o.scheme), o.rest_s] for o in self.options],
            "posteriors": {
                c: [[p.n, p.mean, p.precision] for p in ps] for c, ps in self._post.items()
            },
            "recommendations": [json.loads(r.to_json()) for r in self.log],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path, *, seed: int = 0) -> SchemeLearner:
        """Read a learner written by :meth:`save`."""
        data = json.loads(Path(path).read_text())
        opts = tuple(SchemeOption(tuple(s), float(r)) for s, r in data["options"])
        out = cls(get_preset(data["preset"]), opts, seed=seed)
        for c, ps in data["posteriors"].items():
            out._post[c] = [_Posterior(int(n), float(m), float(pr)) for n, m, pr in ps]
        return out


def store_recommendation(store, session_id: int, rec: Recommendation, t_s: float = 0.0) -> int:
    """Write ``rec`` as a ``bfr_events`` row (kind ``recommendation``, JSON message)."""
    import datetime as dt

    return store.insert_one(
        "bfr_events",
        {
            "session_id": session_id,
            "wall_time": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
            "t_s": t_s,
            "kind": "recommendation",
            "code": rec.option.label[:64],
            "priority": None,
            "value": rec.sampled_value,
            "message": rec.to_json(),
        },
    )


__all__ = [
    "DEFAULT_REPS",
    "DEFAULT_REST_S",
    "Recommendation",
    "SchemeLearner",
    "SchemeOption",
    "session_reward",
    "store_recommendation",
]
