// The call's quality ladder: video, then audio only, then the act's conversation, and back up. A step down
// needs two poor samples in a row, a step up five good ones, so that a link at the edge does not flap.

export const LEVELS = ["video", "audio", "conversation"];
const DOWN_AFTER = 2;
const UP_AFTER = 5;

// What one sample (the worst over the connections) calls for: the lowest level it allows, or "good".
export function judge({rttMs = null, lossRatio = 0, outKbps = null}) {
  if (lossRatio >= 0.25 || (outKbps !== null && outKbps < 40) || rttMs >= 2000) return 2;
  if (lossRatio >= 0.08 || (outKbps !== null && outKbps < 120) || rttMs >= 1000) return 1;
  if (lossRatio < 0.03 && (outKbps === null || outKbps >= 180) && (rttMs === null || rttMs < 600)) return "good";
  return 0;
}

export class Ladder {
  constructor() {
    this.level = 0;
    this.down = 0;
    this.up = 0;
  }

  // Feed a sample; returns the new level's name when the call should change mode, else null.
  feed(sample) {
    const verdict = judge(sample);
    if (verdict !== "good" && verdict > this.level) {
      this.up = 0;
      if (++this.down >= DOWN_AFTER) return this.move(this.level + 1);
    } else if (verdict === "good" && this.level > 0) {
      this.down = 0;
      if (++this.up >= UP_AFTER) return this.move(this.level - 1);
    } else {
      this.down = 0;
      this.up = 0;
    }
    return null;
  }

  move(level) {
    this.level = level;
    this.down = 0;
    this.up = 0;
    return LEVELS[level];
  }
}
