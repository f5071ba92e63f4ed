// The call's quality ladder: video, then audio only, then the act's conversation, and back up. A step down
// needs two poor samples in a row, a step up five good ones, so that a link at the edge does not flap; a step up
// the link could not hold (a step down within RETRY_WINDOW samples) doubles the good samples the next one needs.

export const LEVELS = ["video", "audio", "conversation"];
const DOWN_AFTER = 2;
const UP_AFTER = 5;
const MAX_UP_AFTER = 40; // two minutes of samples
const RETRY_WINDOW = 10;
const CONVERSATION_KBPS = 40;

// What one sample (the worst over the connections) calls for: the lowest level it allows, or "good".
export function judge({rttMs = null, lossRatio = 0, outKbps = null}) {
  if (lossRatio >= 0.25 || (outKbps !== null && outKbps < CONVERSATION_KBPS) || rttMs >= 2000) return 2;
  if (lossRatio >= 0.08 || (outKbps !== null && outKbps < 120) || rttMs >= 1000) return 1;
  if (lossRatio < 0.03 && (outKbps === null || outKbps >= 180) && (rttMs === null || rttMs < 600)) return "good";
  return 0;
}

export class Ladder {
  constructor() {
    this.level = 0;
    this.down = 0;
    this.up = 0;
    this.upAfter = UP_AFTER;
    this.sinceUp = Infinity;
  }

  // Feed a sample; returns the new level's name when the call should change mode, else null.
  feed(sample) {
    this.sinceUp += 1;
    const verdict = judge({...sample, outKbps: this.bitrateSays(sample.outKbps)});
    if (verdict !== "good" && verdict > this.level) {
      this.up = 0;
      if (++this.down >= DOWN_AFTER) return this.move(this.level + 1);
    } else if (verdict === "good" && this.level > 0) {
      this.down = 0;
      if (++this.up >= this.upAfter) return this.move(this.level - 1);
    } else {
      this.down = 0;
      this.up = 0;
    }
    return null;
  }

  // The available bitrate is estimated from what this side sends: with nothing sent it is frozen, and on sound
  // alone it stays near the sound's own rate. Below video it can only say that even the sound does not fit.
  bitrateSays(outKbps) {
    if (this.level === 0 || outKbps === null || outKbps === undefined) return outKbps ?? null;
    return this.level === 1 && outKbps < CONVERSATION_KBPS ? outKbps : null;
  }

  move(level) {
    if (level > this.level) {
      this.upAfter = this.sinceUp <= RETRY_WINDOW ? Math.min(2 * this.upAfter, MAX_UP_AFTER) : UP_AFTER;
    } else {
      this.sinceUp = 0;
    }
    this.level = level;
    this.down = 0;
    this.up = 0;
    return LEVELS[level];
  }
}
