"""Background work that survives a restart: a task queue in the app's own database (django-tasks-db), run by
`caravane worker` (docs/background-work.md).

Define a task in your app (a module-level function; arguments and return value are JSON values)::

    from caravane.tasks.registry import background_task, enqueue, state

    @background_task(queue="exports", max_attempts=2, on_failure=export_failed)
    def build_export(export_id: str) -> dict: ...

Enqueue it inside the action that asks for it, so that it commits with the action or not at all::

    with transaction.atomic(durable=True):
        export = Export.objects.create(...)
        export.task_id = enqueue(build_export, str(export.pk))
        export.save()

See its status with ``state(task_id)`` (READY with its place in line, RUNNING, SUCCESSFUL, FAILED). A task
whose worker dies is queued again until it has run ``max_attempts`` times, then failed; a failed task enqueues
its ``on_failure`` task with the error's text and the original arguments. Apps limit a queue's concurrency
(``limit_queue``) and register periodic jobs (``register_periodic``) from their AppConfig.ready.
"""
