/**
 * The shape every translation of a namespace must have: the English namespace's keys, each a string.
 * `zh` is declared `Messages<typeof en>`, so a key missing (or extra) in Chinese fails the typecheck.
 */
export type Messages<T> = { readonly [K in keyof T]: T[K] extends string ? string : Messages<T[K]> };
