import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { DraftIssue } from '../../routing-form';
import type { RoutingAdmin, RoutingAdminStore } from '../../stores/routing-admin';

/** The routing page's store, handed to its parts. */
export const RoutingAdminContext = createContext<RoutingAdminStore | null>(null);

/** Reads a piece of the routing page's state with a selector. */
export function useAdmin<T>(selector: (s: RoutingAdmin) => T): T {
  const store = useContext(RoutingAdminContext);
  if (!store) throw new Error('RoutingAdminContext missing');
  return useStore(store, selector);
}

/** What the editor's fields need besides the store: the draft's problems by path, and whether it is read only. */
export interface EditorState {
  /** Client-side problems and the server's, by dotted config path. */
  issues: ReadonlyMap<string, readonly string[]>;
  readOnly: boolean;
}
export const EditorContext = createContext<EditorState>({ issues: new Map(), readOnly: true });
export const useEditor = (): EditorState => useContext(EditorContext);

/** Groups problems by path; the server's are marked as such. */
export function issuesByPath(client: readonly DraftIssue[], server: readonly { path: string; message: string }[], serverMark: string) {
  const map = new Map<string, string[]>();
  const add = (path: string, text: string) => map.set(path, [...(map.get(path) ?? []), text]);
  for (const i of client) add(i.path, i.text);
  for (const i of server) add(i.path, `${serverMark}: ${i.message}`);
  return map;
}
