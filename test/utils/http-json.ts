/** The body of every 4xx/5xx the API answers with (Nest's shape; `message` lists each problem). */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string | string[];
}

/** A response's JSON body as the view the test expects; the assertions that follow check it really is. */
export async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
