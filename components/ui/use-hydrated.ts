"use client";

import { useSyncExternalStore } from "react";

const never = () => () => {};

/**
 * False in the server's HTML and while React hydrates it, true once the page's scripts listen. A button whose only
 * action is a click handler is disabled until then: a click on the server-rendered button before the scripts have
 * loaded (a slow network, a busy machine) would otherwise be lost without a sign.
 */
export function useHydrated(): boolean {
  return useSyncExternalStore(never, () => true, () => false);
}
