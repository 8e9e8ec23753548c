_base_ = './resnet50_8xb64-120e_in1k.py'

# Stage 2 of the paper's ImageNet schedule (section 5.2), Table 4 "baseline":
# the stage-1 model fine-tuned 40 more epochs from lr 0.02 with cosine decay
# (no warmup), without blocks. The configs that insert blocks inherit this one
# and add backbone plugins. Their blocks' keys are the only ones allowed to be
# missing from the stage-1 checkpoint; any other missing, unexpected or
# mis-shaped key stops the run, naming it (CheckpointFitHook). Inserted blocks
# start from their zero-initialised last conv (docs/imagenet.md).
load_from = 'work_dirs/resnet50_8xb64-120e_in1k/epoch_120.pth'
custom_hooks = [dict(type='CheckpointFitHook', allow_missing_blocks=True)]

optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=40, by_epoch=True, begin=0, end=40)
]
train_cfg = dict(max_epochs=40)
