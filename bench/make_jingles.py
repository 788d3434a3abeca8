"""Synthesize the sample intro and outro jingles in ``audio/jingles/`` (no downloaded media).

A three-note chime, rising for the intro and falling for the outro, each note a few decaying
harmonics, with a little reverb. Deterministic: rerunning writes the same files.

    python bench/make_jingles.py [--out audio/jingles]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pedalboard
from pedalboard.io import AudioFile

SAMPLE_RATE = 22_050  # Hz, the renderer's default; it resamples anything else
NOTE_S = 0.45  # from one note's start to the next one's
RING_S = 1.6  # how long each note sounds
# A major triad (C5, E5, G5) and the octave: bright enough to carry over a loudspeaker horn.
CHIME_HZ = (523.25, 659.25, 783.99, 1046.50)
HARMONICS = ((1, 1.0), (2, 0.35), (3, 0.12), (4.2, 0.05))  # (frequency multiple, amplitude)
DECAY_PER_S = 3.0  # exponential decay rate of a note
ATTACK_S = 0.01  # fade-in, so a note starts without a click


def note(frequency: float) -> np.ndarray:
    t = np.arange(int(RING_S * SAMPLE_RATE)) / SAMPLE_RATE
    tone = sum(amp * np.sin(2 * np.pi * frequency * mult * t) for mult, amp in HARMONICS)
    envelope = np.exp(-DECAY_PER_S * t) * np.minimum(1.0, t / ATTACK_S)
    return np.asarray(tone * envelope)


def chime(frequencies: tuple[float, ...]) -> np.ndarray:
    step = int(NOTE_S * SAMPLE_RATE)
    out = np.zeros(step * (len(frequencies) - 1) + int(RING_S * SAMPLE_RATE))
    for index, frequency in enumerate(frequencies):
        start = index * step
        out[start : start + int(RING_S * SAMPLE_RATE)] += note(frequency)
    room = pedalboard.Reverb(room_size=0.3, wet_level=0.2, dry_level=0.8)
    wet = room(out.astype(np.float32)[np.newaxis, :], SAMPLE_RATE)
    return np.asarray(wet * (0.5 / np.max(np.abs(wet))), dtype=np.float32)  # peak -6 dBFS


def write(path: Path, samples: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with AudioFile(str(path), "w", SAMPLE_RATE, 1, bit_depth=16) as out:
        out.write(samples)
    print(f"{path}: {samples.shape[-1] / SAMPLE_RATE:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "audio/jingles")
    args = parser.parse_args()
    rising = (CHIME_HZ[0], CHIME_HZ[1], CHIME_HZ[2], CHIME_HZ[3])
    write(args.out / "intro.wav", chime(rising))
    write(args.out / "outro.wav", chime(tuple(reversed(rising[:3]))))


if __name__ == "__main__":
    main()
