import type { SessionRating, SessionStore } from '../sessions/store';

/**
 * The session store as it is, except that each rating it stores (`rateSession`, CSAT) is also told to
 * `onRated` once stored — how the KPI log hears of ratings, which no bus event carries (issue 16).
 * A listener that throws is not the customer's problem: its error is passed to `onError` and the
 * rating is answered as stored.
 */
export function tapRatings<S extends Pick<SessionStore, 'rateSession'>>(
  store: S,
  onRated: (rating: SessionRating) => void,
  onError: (error: unknown) => void = () => undefined,
): S {
  const rateSession: SessionStore['rateSession'] = async (input) => {
    const rating = await store.rateSession(input);
    try {
      onRated(rating);
    } catch (error) {
      onError(error);
    }
    return rating;
  };
  return new Proxy(store, {
    get: (target, prop, receiver) => (prop === 'rateSession' ? rateSession : Reflect.get(target, prop, receiver)),
  });
}
