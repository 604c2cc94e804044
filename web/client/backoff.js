// Reconnect backoff (DESIGN §5): full jitter, so the clients of a replica that went away do not
// all come back at the same instant.

/**
 * Full-jitter exponential backoff: a uniform delay in [0, min(cap, base * 2^attempt)).
 * @param {number} attempt
 * @returns {number}
 */
export function backoffDelay(attempt, random = Math.random, baseMs = 500, capMs = 30000) {
  return random() * Math.min(capMs, baseMs * 2 ** attempt);
}
