/** An error the REST layer turns into `{"error_code": status, "message": …}`. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
