/** Dynamic time warping with steps (1,0), (0,1), (1,1): the path of least summed cost from (0,0) to (n-1,m-1). */
export function dtw(n: number, m: number, cost: (i: number, j: number) => number): { path: Array<[number, number]>; total: number } {
  if (n === 0 || m === 0) return { path: [], total: 0 };
  const acc = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const c = cost(i, j);
      let best: number;
      if (i === 0 && j === 0) best = 0;
      else if (i === 0) best = acc[j - 1]!;
      else if (j === 0) best = acc[(i - 1) * m]!;
      else best = Math.min(acc[(i - 1) * m + j - 1]!, acc[(i - 1) * m + j]!, acc[i * m + j - 1]!);
      acc[i * m + j] = best + c;
    }
  }
  const path: Array<[number, number]> = [[n - 1, m - 1]];
  let i = n - 1,
    j = m - 1;
  while (i > 0 || j > 0) {
    if (i === 0) j--;
    else if (j === 0) i--;
    else {
      const diag = acc[(i - 1) * m + j - 1]!,
        up = acc[(i - 1) * m + j]!,
        left = acc[i * m + j - 1]!;
      // Prefer the diagonal on ties: the shortest path among equals.
      if (diag <= up && diag <= left) {
        i--;
        j--;
      } else if (up <= left) i--;
      else j--;
    }
    path.push([i, j]);
  }
  path.reverse();
  return { path, total: acc[n * m - 1]! };
}
