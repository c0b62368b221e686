def train(ctx):
    for epoch in range(1, ctx.params.epochs + 1):
        ctx.report_epoch(epoch, loss=1.0 / epoch)
