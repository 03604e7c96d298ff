"""Default element sizes (mm) of a global-local submodel of the 3D assembly quarter, in one place.

The global model is about the coarsest the ball geometry allows (the pads and mask openings set the
joint mesh): the 16 x 16 array's quarter is then 30,128 tetrahedra, 148,904 dofs.  The local joint size
is where the Darveaux band dW has converged: on the 3 x 3 corner joint 0.0375 mm is within 0.7 % of
0.025 mm, where 0.075-0.1 mm is 12-16 % high (docs/3d.md, joint-size convergence).
"""

GLOBAL_JOINT_MM = 0.3  # the global model's joints
GLOBAL_SIZE_MM = 0.6  # the global model away from the joints
GLOBAL_LAYER_MM = 0.3  # the global model's largest element height through a layer
LOCAL_JOINT_MM = 0.0375  # a local model's joint
LOCAL_SIZE_MM = 0.15  # a local model's block away from the joint
