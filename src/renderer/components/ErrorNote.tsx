export function ErrorNote({ error, testId }: { error: string | null | undefined; testId?: string }) {
  if (!error) return null;
  return (
    <div className="error-note" role="alert" data-testid={testId ?? 'error'}>
      {error}
    </div>
  );
}
