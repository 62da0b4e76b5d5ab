// A promise-chain mutex: `exclusive(fn)` runs fn after every fn passed before it has settled.
export function makeLock() {
  let tail = Promise.resolve();
  return (fn) => {
    const result = tail.then(fn);
    tail = result.catch(() => {});
    return result;
  };
}
